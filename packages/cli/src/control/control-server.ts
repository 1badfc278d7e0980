import { isDomainError, parseJson, stringifyJson } from '@tokenwise/core';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { adminCommands, type CommandOptions } from '../commands/admin/index';
import type { Services } from '../services';
import { UsageError } from '../usage-error';

/** Bodies are command options: small. */
const bodyBytesMax = 64 * 1024;

export interface ControlServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > bodyBytesMax) throw new UsageError(`Request body over ${bodyBytesMax} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(stringifyJson(body));
}

/**
 * The running platform's loopback endpoint for the CLI: PGlite serves one process, so in embedded
 * mode the CLI's database commands run here. The token lives in the owner-only run file.
 */
export async function startControlServer(services: Services): Promise<ControlServer> {
  const token = randomBytes(24).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    void (async function handleControlRequest() {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return send(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'Missing or wrong control token.' } });
      if (req.method !== 'POST' || req.url !== '/v1/commands')
        return send(res, 404, { error: { code: 'NOT_FOUND', message: 'POST /v1/commands only.' } });
      try {
        const body = parseJson(await readBody(req)) as { command?: unknown; options?: unknown; actor?: unknown };
        const command = typeof body.command === 'string' ? adminCommands[body.command] : undefined;
        if (command === undefined)
          return send(res, 404, { error: { code: 'NOT_FOUND', message: `Unknown command ${String(body.command)}.` } });
        const actor = typeof body.actor === 'string' ? body.actor.slice(0, 100) : 'cli:unknown';
        send(res, 200, await command(services, (body.options ?? {}) as CommandOptions, actor));
      } catch (error) {
        if (error instanceof UsageError) return send(res, 400, { error: { code: 'USAGE', message: error.message } });
        if (isDomainError(error)) return send(res, 422, { error: { code: error.code, message: error.message } });
        process.stderr.write(`control: ${(error as Error).stack ?? String(error)}\n`);
        send(res, 500, {
          error: { code: 'INTERNAL', message: 'The platform failed to run the command; see its log.' },
        });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
