import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  appHomeOpenedEvent,
  blockActionsPayload,
  eventCallbackPayload,
  slashCommandPayload,
  viewSubmissionPayload,
  type ActionInput,
  type CommandInput,
  type ViewSubmissionInput,
} from './payloads';
import { formBody, interactionBody, postSigned, type HttpDelivery, type RawDelivery } from './signing';
import { createSocketModeEndpoint, type EnvelopeType } from './socket-mode';
import {
  createSlackState,
  nextId,
  takeFault,
  type ApiCall,
  type ApiFault,
  type PostedMessage,
  type ResponsePost,
  type SlackMember,
  type ViewRecord,
} from './state';
import { callMethod, SlackApiError } from './web-api';

const requestBytesMax = 1_000_000;

export interface LocalSlackOptions {
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  /** How long a trigger_id stays good for views.open; Slack's is 3 s. */
  triggerTtlMs?: number;
}

/** What one delivery to the bot returned: the HTTP answer or the Socket Mode ack. */
export interface Delivery {
  /** HTTP status; 200 for an acked Socket Mode envelope. */
  status: number;
  /** The ack's body: the HTTP response text, or the Socket Mode ack payload as JSON ('' when none). */
  body: string;
  elapsedMs: number;
}

/** Sends what Slack sends to an app, over one transport. */
export interface SlackSender {
  /** A slash command; `responseUrlId` names the response URL it carried (see `responsesTo`). */
  command(input: CommandInput): Promise<Delivery & { responseUrlId: string }>;
  /** A button click (`block_actions`); `responseUrlId` is set when the click carried a response URL. */
  action(input: ActionInput): Promise<Delivery & { responseUrlId: string | undefined }>;
  viewSubmission(input: ViewSubmissionInput): Promise<Delivery>;
  /** An Events API event (wrapped in `event_callback`), e.g. `appHomeOpenedEvent(userId)`. */
  event(event: Record<string, unknown>): Promise<Delivery>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > requestBytesMax) throw new Error(`request body over ${requestBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(contentType: string, raw: string, query: URLSearchParams): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  if (raw.length === 0) return args;
  if (contentType.startsWith('application/json')) return { ...args, ...(JSON.parse(raw) as Record<string, unknown>) };
  return { ...args, ...Object.fromEntries(new URLSearchParams(raw)) };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * A local Slack for tests: the Web API at `apiUrl` (point Bolt's `clientOptions.slackApiUrl`
 * there), response URLs that record what the bot posts, a Socket Mode WebSocket, and senders that
 * deliver signed commands, interactions and events to the bot. Everything on 127.0.0.1.
 */
export async function startLocalSlack(options: LocalSlackOptions = {}) {
  const state = createSlackState({
    botToken: options.botToken ?? 'xoxb-local-bot-token',
    appToken: options.appToken ?? 'xapp-1-local-app-token',
    signingSecret: options.signingSecret ?? 'local-signing-secret',
    triggerTtlMs: options.triggerTtlMs ?? 3_000,
  });
  let baseUrl = '';
  const socketMode = createSocketModeEndpoint({ baseUrl: () => baseUrl });

  async function handleApi(method: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const contentType = request.headers['content-type'] ?? '';
    const url = new URL(request.url ?? '/', 'http://local');
    const args = parseArgs(contentType, await readBody(request), url.searchParams);
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : null);
    delete args.token;
    const call: ApiCall = { method, args, token, contentType, outcome: 'ok', atMs: Date.now() };
    state.calls.push(call);
    const fault = takeFault(state, method);
    if (fault?.kind === 'ratelimited') {
      call.outcome = 'ratelimited';
      sendJson(response, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfterSeconds) });
      return;
    }
    if (fault?.kind === 'http') {
      call.outcome = `http_${fault.status}`;
      response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('upstream unavailable');
      return;
    }
    try {
      if (fault?.kind === 'error') throw new SlackApiError(fault.error);
      sendJson(response, 200, {
        ok: true,
        ...callMethod(state, method, args, token, { socketUrl: socketMode.issueUrl() }),
      });
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      call.outcome = error.error;
      const metadata = error.messages.length > 0 ? { response_metadata: { messages: error.messages } } : {};
      sendJson(response, 200, { ok: false, error: error.error, ...metadata });
    }
  }

  async function handleResponseUrl(id: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJson(response, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    state.responses.push({ id, body, atMs: Date.now() });
    sendJson(response, 200, { ok: true });
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const api = /^\/api\/([a-zA-Z.]+)$/.exec(path);
    const responseUrl = /^\/response\/([A-Za-z0-9]+)$/.exec(path);
    const handled =
      request.method === 'POST' && api?.[1] !== undefined
        ? handleApi(api[1], request, response)
        : request.method === 'POST' && responseUrl?.[1] !== undefined
          ? handleResponseUrl(responseUrl[1], request, response)
          : Promise.resolve(sendJson(response, 404, { ok: false, error: 'not_found' }));
    handled.catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { ok: false, error: 'internal_error', detail: String(error) });
      else response.destroy();
    });
  });
  server.on('upgrade', (request, socket, head) => socketMode.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function newResponseUrl(): { id: string; url: string } {
    const id = nextId(state, 'R');
    return { id, url: `${baseUrl}/response/${id}` };
  }

  function httpSender(botUrl: string): SlackSender {
    const endpoint = `${botUrl.replace(/\/$/, '')}/slack/events`;
    const post = (request: RawDelivery) => postSigned(endpoint, state.signingSecret, request);
    const form = 'application/x-www-form-urlencoded' as const;
    return {
      async command(input) {
        const response = newResponseUrl();
        const body = formBody(slashCommandPayload(state, input, response.url));
        return { ...(await post({ body, contentType: form })), responseUrlId: response.id };
      },
      async action(input) {
        const response = input.homeViewId === undefined ? newResponseUrl() : undefined;
        const body = interactionBody(blockActionsPayload(state, input, response?.url));
        return { ...(await post({ body, contentType: form })), responseUrlId: response?.id };
      },
      async viewSubmission(input) {
        return post({ body: interactionBody(viewSubmissionPayload(state, input)), contentType: form });
      },
      async event(event) {
        return post({ body: JSON.stringify(eventCallbackPayload(state, event)), contentType: 'application/json' });
      },
    };
  }

  async function overSocket(type: EnvelopeType, payload: Record<string, unknown>, accepts: boolean) {
    const ack = await socketMode.send(type, payload, accepts);
    return {
      status: 200,
      body: ack.payload === undefined ? '' : JSON.stringify(ack.payload),
      elapsedMs: ack.elapsedMs,
    };
  }

  const socketSender: SlackSender = {
    async command(input) {
      const response = newResponseUrl();
      const delivery = await overSocket('slash_commands', slashCommandPayload(state, input, response.url), true);
      return { ...delivery, responseUrlId: response.id };
    },
    async action(input) {
      const response = input.homeViewId === undefined ? newResponseUrl() : undefined;
      const delivery = await overSocket('interactive', blockActionsPayload(state, input, response?.url), false);
      return { ...delivery, responseUrlId: response?.id };
    },
    viewSubmission: (input) => overSocket('interactive', viewSubmissionPayload(state, input), true),
    event: (event) => overSocket('events_api', eventCallbackPayload(state, event), false),
  };

  /** Polls `probe` every 10 ms until it returns something other than undefined. */
  async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`local Slack: no ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  return {
    /** The Web API base, ending in `/api/`: the bot's SLACK_API_URL. */
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    botToken: state.botToken,
    appToken: state.appToken,
    signingSecret: state.signingSecret,
    /** Adds (or replaces) a workspace member that `users.info` knows. */
    addMember(member: SlackMember): SlackMember {
      state.members.set(member.id, member);
      return member;
    },
    /** Every Web API call so far, oldest first; `callsTo(method)` for one method's. */
    calls: (): readonly ApiCall[] => state.calls,
    callsTo: (method: string): ApiCall[] => state.calls.filter((call) => call.method === method),
    messages: (): readonly PostedMessage[] => state.messages,
    views: (): readonly ViewRecord[] => state.views,
    /** The newest Home view published for a member. */
    homeOf: (userId: string): ViewRecord | undefined =>
      state.views.findLast((view) => view.kind === 'home' && view.userId === userId),
    /** What the bot posted to one response URL (by `responseUrlId`), oldest first. */
    responsesTo: (id: string): ResponsePost[] => state.responses.filter((post) => post.id === id),
    /** Waits for the first post to a response URL. */
    waitForResponse: (id: string, timeoutMs?: number): Promise<ResponsePost> =>
      waitFor(() => state.responses.find((post) => post.id === id), `post to response URL ${id}`, timeoutMs),
    waitFor,
    /** The next `times` calls to `method` answer with `fault` instead of doing their work. */
    failNext(method: string, fault: ApiFault, times = 1): void {
      const queue = state.faults.get(method) ?? [];
      queue.push({ fault, remaining: times });
      state.faults.set(method, queue);
    },
    /** The next `times` calls to `method` get HTTP 429 with `Retry-After: retryAfterSeconds`. */
    rateLimit(method: string, times: number, retryAfterSeconds = 1): void {
      this.failNext(method, { kind: 'ratelimited', retryAfterSeconds }, times);
    },
    /** The next `times` calls to auth.test fail (by default `{ ok: false, error: 'service_unavailable' }`). */
    failAuthTest(times: number, fault: ApiFault = { kind: 'error', error: 'service_unavailable' }): void {
      this.failNext('auth.test', fault, times);
    },
    /** Delivers to the bot's HTTP receiver at `botUrl` (`/slack/events` is appended), signed. */
    http: httpSender,
    /** Sends one raw signed (or forged, or stale) request to the bot's `/slack/events`. */
    postRaw: (botUrl: string, request: RawDelivery): Promise<HttpDelivery> =>
      postSigned(`${botUrl.replace(/\/$/, '')}/slack/events`, state.signingSecret, request),
    /** Delivers over the bot's Socket Mode connection, resolving with its ack. */
    socket: socketSender,
    socketConnections: socketMode.connections,
    waitForSocket: (timeoutMs?: number) => socketMode.waitForConnection(timeoutMs),
    disconnectSockets: (reason?: string) => socketMode.disconnectAll(reason),
    homeOpened: appHomeOpenedEvent,
    async close(): Promise<void> {
      await socketMode.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export type LocalSlack = Awaited<ReturnType<typeof startLocalSlack>>;
