import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleInference, sendError, type InferenceDeps } from './inference';
import { GatewayError, toGatewayError } from './openai-error';

export interface GatewayServerDeps extends InferenceDeps {
  /** Queue depth per model, for /metrics. */
  queueDepths: () => Record<string, number>;
}

/** A request id clients and logs can quote: `req_` and 24 hex digits. */
/** `req_` and 24 random hex digits (96 bits), from the UUID generator's pooled entropy: no syscall per request. */
export function newRequestId(): string {
  const uuid = randomUUID();
  return `req_${uuid.slice(0, 8)}${uuid.slice(9, 13)}${uuid.slice(15, 18)}${uuid.slice(20, 23)}${uuid.slice(24, 30)}`;
}

async function listModels(
  deps: GatewayServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const principal = await deps.auth.authenticate(req.headers.authorization);
  const models = deps.router
    .models()
    .filter((model) => principal.allowedModels === null || principal.allowedModels.includes(model));
  const created = Math.floor(Date.now() / 1000);
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
  res.end(
    JSON.stringify({
      object: 'list',
      data: models.map((id) => ({ id, object: 'model', created, owned_by: 'tokenwise' })),
    }),
  );
}

/** The gateway's HTTP server: OpenAI-compatible routes, /health and /metrics. Node's http, no framework, for the hot path. */
export function createGatewayServer(deps: GatewayServerDeps): Server {
  const server = createServer((req, res) => {
    const requestId = newRequestId();
    const path = (req.url ?? '/').split('?')[0];
    void (async function routeGatewayRequest() {
      try {
        if (req.method === 'POST' && path === '/v1/chat/completions')
          return await handleInference(deps, 'chat', req, res, requestId);
        if (req.method === 'POST' && path === '/v1/completions')
          return await handleInference(deps, 'completions', req, res, requestId);
        if (req.method === 'GET' && path === '/v1/models') return await listModels(deps, req, res, requestId);
        if (req.method === 'GET' && path === '/health') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          return void res.end('ok');
        }
        if (req.method === 'GET' && path === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          return void res.end(deps.metrics.render(deps.queueDepths()));
        }
        throw new GatewayError(
          404,
          `No route ${req.method} ${path}. The gateway serves POST /v1/chat/completions, POST /v1/completions and GET /v1/models.`,
          'invalid_request_error',
          'not_found',
        );
      } catch (error) {
        const failure = toGatewayError(error);
        if (failure.status >= 500) deps.log(`request ${requestId}: ${(error as Error).stack ?? String(error)}`);
        if (!res.headersSent) sendError(res, failure, requestId);
        else res.end();
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
