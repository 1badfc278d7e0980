import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { renderChatTemplate } from './chat-template';
import { SimEngine } from './engine';
import { VllmHttpError, internalError, modelNotFound, requestShapeError } from './errors';
import {
  type ResolvedFaults,
  type SimFaults,
  drawRequestFaults,
  faultsSchema,
  mergeFaults,
  misreadBody,
  noFaults,
} from './faults';
import { GenerationJob } from './generation-job';
import { type MetricsSnapshot, SimMetrics } from './metrics';
import { type ResolvedModelOptions, type SimModelOptions, resolveModelOptions } from './model-config';
import { type GenerationPlan, planChat, planCompletion } from './plan';
import { describeIssues, tokenizeRequestSchema } from './request-schemas';
import { createRng } from './rng';
import { tokenize } from './tokenizer';

/** Options of one simulated vLLM server: its model plus where to listen. */
export interface VllmSimOptions extends SimModelOptions {
  /** Loopback only; anything else is refused. Default 127.0.0.1. */
  host?: '127.0.0.1' | '::1' | 'localhost';
  /** 0 picks a free port. */
  port?: number;
}

/** A running simulator. */
export interface VllmSim {
  /** Base URL without the /v1 suffix, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
  readonly model: string;
  /** Partial update: absent fields keep their value, null clears stall/dropConnection. */
  setFaults(update: SimFaults): void;
  /** Removes every fault. */
  clearFaults(): void;
  faults(): ResolvedFaults;
  metrics(): MetricsSnapshot;
  /** Prometheus text, as GET /metrics serves it. */
  metricsText(): string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Request bodies above this are refused before parsing. */
export const requestBodyBytesMax = 8 * 1024 * 1024;

/** Starts one vLLM-compatible server on loopback (port 0 = a free port). */
export async function startVllmSim(options: VllmSimOptions): Promise<VllmSim> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error(`The vLLM simulator binds to loopback only; host "${host}" is not allowed. Use 127.0.0.1.`);
  }
  const resolved = resolveModelOptions(options);
  const state = new SimState(resolved, options.faults);
  const server = createServer({ keepAlive: true, keepAliveTimeout: 65_000 }, (req, res) => {
    state.handle(req, res).catch((error: unknown) => sendError(res, internalError(String(error))));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    model: resolved.model,
    setFaults: (update) => state.setFaults(update),
    clearFaults: () => {
      state.faults = noFaults;
    },
    faults: () => state.faults,
    metrics: () => state.metrics.snapshot(state.engine.runningCount, state.engine.waitingCount),
    metricsText: () => state.metrics.render(state.engine.runningCount, state.engine.waitingCount),
    close: () => closeServer(server, state),
  };
}

async function closeServer(server: Server, state: SimState): Promise<void> {
  state.engine.stop();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

class SimState {
  readonly metrics: SimMetrics;
  readonly engine: SimEngine;
  faults: ResolvedFaults;
  private readonly faultRandom: () => number;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly permissionId = `modelperm-${randomUUID().replaceAll('-', '')}`;

  constructor(
    readonly options: ResolvedModelOptions,
    faults: SimFaults | undefined,
  ) {
    this.metrics = new SimMetrics(options.model, options.maxModelLen);
    this.engine = new SimEngine({
      maxNumSeqs: options.maxNumSeqs,
      schedulingPolicy: options.schedulingPolicy,
      preemption: options.preemption,
      latency: () => options.latency,
      metrics: this.metrics,
    });
    this.faults = faults === undefined ? noFaults : mergeFaults(noFaults, faults);
    const rng = createRng(options.seed ^ 0x5eed);
    this.faultRandom = rng.float;
  }

  setFaults(update: SimFaults): void {
    this.faults = mergeFaults(this.faults, update);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[path ?? ''];
    if (route === undefined) return sendJson(res, 404, '{"detail":"Not Found"}');
    const handler = route[req.method ?? 'GET'];
    if (handler === undefined) return sendJson(res, 405, '{"detail":"Method Not Allowed"}');
    try {
      await handler(this, req, res);
    } catch (error) {
      if (!(error instanceof VllmHttpError)) throw error;
      sendError(res, error);
    }
  }

  async generate(
    req: IncomingMessage,
    res: ServerResponse,
    plan: (body: unknown, options: ResolvedModelOptions) => GenerationPlan,
  ): Promise<void> {
    const faults = this.faults;
    const body = misreadBody(await readJson(req), faults);
    const generationPlan = plan(body, this.options);
    if (faults.firstByteDelayMs > 0) await delay(faults.firstByteDelayMs);
    if (faults.errorRate > 0 && this.faultRandom() < faults.errorRate) throw internalError();
    if (res.destroyed) return;
    const prefix = generationPlan.endpoint === 'chat' ? 'chatcmpl-' : 'cmpl-';
    const id = prefix + requestId(req, body);
    const job = new GenerationJob(generationPlan, id, res, drawRequestFaults(faults, this.faultRandom));
    job.start();
    const ticket = this.engine.submit(job);
    job.ticket = ticket;
    res.on('close', () => {
      if (!res.writableFinished) ticket.abort();
    });
  }

  modelsJson(): string {
    const { model, root, maxModelLen } = this.options;
    return JSON.stringify({
      object: 'list',
      data: [
        {
          id: model,
          object: 'model',
          created: this.created,
          owned_by: 'vllm',
          root,
          parent: null,
          max_model_len: maxModelLen,
          permission: [
            {
              id: this.permissionId,
              object: 'model_permission',
              created: this.created,
              allow_create_engine: false,
              allow_sampling: true,
              allow_logprobs: true,
              allow_search_indices: false,
              allow_view: true,
              allow_fine_tuning: false,
              organization: '*',
              group: null,
              is_blocking: false,
            },
          ],
        },
      ],
    });
  }

  async tokenizeJson(req: IncomingMessage): Promise<string> {
    const parsed = tokenizeRequestSchema.safeParse(await readJson(req));
    if (!parsed.success) throw requestShapeError(describeIssues(parsed.error));
    const request = parsed.data;
    if (request.model !== undefined && request.model !== null && request.model !== this.options.model)
      throw modelNotFound(request.model);
    let text: string;
    if (request.messages !== undefined) {
      text = renderChatTemplate(request.messages, { addGenerationPrompt: request.add_generation_prompt ?? true });
    } else if (request.prompt !== undefined) {
      text = request.prompt;
    } else {
      throw requestShapeError('Either "prompt" (completion style) or "messages" (chat style) is required.');
    }
    const tokens = tokenize(text);
    return JSON.stringify({ count: tokens.length, max_model_len: this.options.maxModelLen, tokens, token_strs: null });
  }
}

type Handler = (state: SimState, req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

const routes: Record<string, Record<string, Handler>> = {
  '/health': { GET: (_state, _req, res) => void res.writeHead(200, { 'content-length': 0 }).end() },
  '/v1/models': { GET: (state, _req, res) => sendJson(res, 200, state.modelsJson()) },
  '/v1/chat/completions': { POST: (state, req, res) => state.generate(req, res, planChat) },
  '/v1/completions': { POST: (state, req, res) => state.generate(req, res, planCompletion) },
  '/tokenize': { POST: async (state, req, res) => sendJson(res, 200, await state.tokenizeJson(req)) },
  '/metrics': {
    GET: (state, _req, res) => {
      const body = state.metrics.render(state.engine.runningCount, state.engine.waitingCount);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    },
  },
  '/_sim/faults': {
    GET: (state, _req, res) => sendJson(res, 200, JSON.stringify(state.faults)),
    POST: async (state, req, res) => {
      const parsed = faultsSchema.safeParse(await readJson(req));
      if (!parsed.success) throw requestShapeError(`Invalid faults: ${describeIssues(parsed.error)}`);
      state.setFaults(parsed.data);
      sendJson(res, 200, JSON.stringify(state.faults));
    },
  },
};

/** vLLM takes the X-Request-Id header, else the body's request_id, else a random uuid hex. */
function requestId(req: IncomingMessage, body: unknown): string {
  const header = req.headers['x-request-id'];
  if (typeof header === 'string' && header.length > 0) return header;
  const fromBody = (body as { request_id?: unknown }).request_id;
  if (typeof fromBody === 'string' && fromBody.length > 0) return fromBody;
  return randomUUID().replaceAll('-', '');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > requestBodyBytesMax) {
      throw new VllmHttpError(
        413,
        'Bad Request',
        `Request body exceeds ${requestBodyBytesMax} bytes; send a smaller prompt.`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw requestShapeError(`JSON decode error: ${(error as Error).message}. Send a JSON object body.`);
  }
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function sendError(res: ServerResponse, error: VllmHttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, JSON.stringify(error.toBody()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
