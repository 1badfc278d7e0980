import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { carbonReportDownload, isCarbonReportDownload } from './carbon-report-download';
import { createContextFactory, type ApiDeps } from './context';
import { githubWebhook, isGithubWebhook } from './github-webhook';
import { experimentsWebhook, isExperimentsWebhook } from './experiments-webhook';
import { bodyBytesMax, submitResultsBytesMax, submitResultsPath } from './limits';
import { appRouter } from './router';

/** `POST /experiments.submitResults`, unbatched: the only call that takes submitResultsBytesMax. */
function isSubmitResults(req: { method?: string; url?: string }): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const query = req.url.indexOf('?');
  return (query === -1 ? req.url : req.url.slice(0, query)) === submitResultsPath;
}

export interface RunningApiServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the API over HTTP (tRPC standalone adapter) on loopback by default; port 0 picks a free
 * one. Besides tRPC: `GET /carbon/report.csv`, the emission report as a file, same keys; and
 * `POST /webhooks/github`, GitHub's webhook deliveries (signed, no key); and
 * `POST /webhooks/experiments`, A/B results signed with a service key's webhook secret.
 */
export async function startApiServer(deps: ApiDeps & { port?: number; host?: string }): Promise<RunningApiServer> {
  const { createContext, close: closeKeys } = createContextFactory(deps);
  const trpc = createHTTPHandler({ router: appRouter, createContext, maxBodySize: bodyBytesMax });
  const trpcResults = createHTTPHandler({ router: appRouter, createContext, maxBodySize: submitResultsBytesMax });
  const download = carbonReportDownload({ createContext });
  const github = githubWebhook({ db: deps.db, secret: deps.github?.webhookSecret });
  const experiments = experimentsWebhook({ db: deps.db, keyPepper: deps.keyPepper });
  const server = createServer((req, res) => {
    const handler = isGithubWebhook(req)
      ? github
      : isExperimentsWebhook(req)
        ? experiments
        : isCarbonReportDownload(req)
          ? download
          : undefined;
    if (handler === undefined) return isSubmitResults(req) ? trpcResults(req, res) : trpc(req, res);
    handler(req, res).catch((error: unknown) => {
      // The handlers answer every error they can; what reaches here is unexpected, or a failure to write at all.
      if (!res.headersSent && res.writable) {
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error.' } }));
        return;
      }
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  const host = deps.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closeKeys();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
