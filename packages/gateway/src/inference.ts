import { estimateAdmission, InsufficientFundsError, type CarbonModelProfile } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import type { Ledger } from '@tokenwise/ledger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { admit, carbonProfileOf, charge, co2eBoundFor, priceUsage, release, type Admission, type Completion } from './metering';
import type { EarlyForwarding } from './early-forwarding';
import { type GatewayMetrics } from './metrics';
import { GatewayError, toGatewayError } from './openai-error';
import type { PayerAccounts } from './payer-accounts';
import type { Authenticator, ClusterInfo, Principal, RequestLimiter, UpstreamLease, UpstreamRouter } from './ports';
import type { SettlementVersions } from './policy-versions';
import type { PriceListSource } from './price-lists';
import { priorityBodyField, readJsonBody, tagsOf, tierOf, validateInferenceBody } from './request-body';
import { holdTimeoutSeconds, type GatewaySettings } from './settings';
import { SseParser } from './sse';
import { StreamUsage, usageOf, type TokenUsage } from './stream-usage';
import type { UpstreamPools } from './upstream-pools';
import { requestUpstream, type UpstreamBody } from './upstream-request';

export interface InferenceDeps {
  db: Db;
  ledger: Ledger;
  auth: Authenticator;
  router: UpstreamRouter;
  limiter: RequestLimiter | undefined;
  priceLists: PriceListSource;
  accounts: PayerAccounts;
  pools: UpstreamPools;
  settings: GatewaySettings;
  metrics: GatewayMetrics;
  earlyForwarding: EarlyForwarding;
  /** The team's settlement-policy version to pin on the admission row (settlement issue). */
  settlementVersionsOf?: (principal: Principal) => Promise<SettlementVersions>;
  log: (line: string) => void;
}

export type InferenceKind = 'chat' | 'completions';

/** Tries on another replica when one fails before answering. */
const failoverAttemptsMax = 2;
const errorBodyBytesMax = 64 * 1024;

interface Upstream {
  lease: UpstreamLease;
  statusCode: number;
  body: UpstreamBody;
  sentAt: number;
}

/** A request that reached admission: what must be settled exactly once, whatever happens next. */
class Flight {
  admission: Admission | undefined;
  settled = false;
  constructor(readonly requestId: string) {}
}

/** POST /v1/chat/completions and /v1/completions: authenticate, price, hold, queue, forward, meter, charge. */
export async function handleInference(deps: InferenceDeps, kind: InferenceKind, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const startedAt = performance.now();
  const flight = new Flight(requestId);
  const clientGone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort();
  });
  let lease: UpstreamLease | undefined;
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(), deps.settings.requestTimeoutMs);
  const holdRefused = new AbortController();
  let admitting: Promise<Admission> | undefined;
  try {
    const principal = await deps.auth.authenticate(req.headers.authorization);
    let mark = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      deps.metrics.observePhase(name, now - mark);
      mark = now;
    };
    phase('authenticate');
    if (!principal.scopes.includes('inference')) throw new GatewayError(403, 'This API key has no inference scope; use a key created with --scopes inference.', 'permission_error', 'forbidden');
    const body = await readJsonBody(req, deps.settings.bodyBytesMax);
    const { model, stream } = validateInferenceBody(kind, body);
    const tier = tierOf(req, body);
    const tags = tagsOf(req);
    if (principal.allowedModels !== null && !principal.allowedModels.includes(model)) throw modelNotFound(model);
    const cluster = deps.router.clusterFor(model);
    if (cluster === undefined) throw modelNotFound(model);
    const priceList = await deps.priceLists.current(principal.orgId);
    if (priceList.list.models[model] === undefined) throw new GatewayError(404, `Model "${model}" is served but has no price in price list ${priceList.version}; an admin must price it.`, 'invalid_request_error', 'model_not_priced', 'model');
    const profile: CarbonModelProfile = carbonProfileOf(model, priceList, deps.settings.modelProfiles);
    const estimate = estimateAdmission({
      priceList: priceList.list,
      modelId: model,
      tier,
      body,
      policy: { completionTokensCap: deps.settings.completionTokensCap, enforceCompletionTokensCap: deps.settings.enforceCompletionTokensCap },
      co2eMicrogramsForOutputTokens: priceList.list.carbonPrice === undefined ? undefined : co2eBoundFor(profile, cluster),
    });
    deps.limiter?.checkRequest(principal, estimate.promptTokensBound + estimate.completionTokensBound);
    phase('estimate');
    const versions = (await deps.settlementVersionsOf?.(principal)) ?? { policyVersion: null, scoringConfigVersion: null };
    admitting = admit(
      { ledger: deps.ledger, accounts: deps.accounts, holdTimeoutSeconds: holdTimeoutSeconds(deps.settings) },
      { requestId, principal, model, tier, priceList, estimate, system: principal.userId === null, ...versions },
    ).catch((error: unknown) => {
      if (error instanceof InsufficientFundsError) deps.earlyForwarding.refused(principal);
      throw error;
    });
    // Whatever happens next, the admission's outcome is awaited before the request ends (see catch).
    admitting.catch(() => undefined);
    const early = deps.earlyForwarding.allowed(principal);
    if (!early) {
      flight.admission = await admitting;
      phase('admit');
    }
    const forwarded = forwardedBody(body, estimate.forwardedMaxTokens, stream);
    const timeout = deadline.signal;
    const upstreamAbort = AbortSignal.any([clientGone.signal, timeout, holdRefused.signal]);
    const sending = sendWithFailover(deps, model, tier, forwarded, kind, requestId, upstreamAbort);
    if (early) {
      // Sent while the hold commits: nothing reaches the client before the hold is durable.
      sending.catch(() => undefined);
      try {
        flight.admission = await admitting;
      } catch (error) {
        holdRefused.abort();
        await sending.then((refusedUpstream) => refusedUpstream.lease.release({ ok: true }), () => undefined);
        throw error;
      }
      phase('admit_overlapped');
    }
    const upstream = await sending;
    phase('queue_and_upstream_headers');
    lease = upstream.lease;
    if (upstream.statusCode !== 200) {
      await relayUpstreamError(deps, flight, upstream, res, requestId);
      lease.release({ ok: upstream.statusCode < 500 });
      lease = undefined;
      return;
    }
    const meta = { principal, body, tags, startedAt, upstreamAbort, clientGone: clientGone.signal, timeout, cluster };
    const relayed = stream ? relayStream(deps, flight, upstream, res, meta, kind) : relayJson(deps, flight, upstream, res, meta, kind);
    // The relay releases the lease as soon as the upstream is done, before the charge commits.
    lease = undefined;
    const ok = await relayed.catch((error: unknown) => {
      upstream.lease.release({ ok: false });
      throw error;
    });
    if (!ok) upstream.lease.release({ ok: false });
  } catch (error) {
    lease?.release({ ok: false });
    // A request that failed while its hold was committing settles the hold once it is known.
    if (flight.admission === undefined && admitting !== undefined) flight.admission = await admitting.catch(() => undefined);
    const failure = toGatewayError(error);
    if (failure.status >= 500) deps.log(`request ${requestId} failed: ${(error as Error).stack ?? String(error)}`);
    if (flight.admission !== undefined && !flight.settled) {
      flight.settled = true;
      await release(deps.ledger, flight.admission, failure.message).catch((voidError: unknown) => deps.log(`request ${requestId}: releasing its holds failed (reconciliation will): ${String(voidError)}`));
    }
    if (!res.headersSent) sendError(res, failure, requestId);
    else if (!res.writableEnded) res.end(`data: ${JSON.stringify(failure.body())}\n\n`);
    deps.metrics.countRequest(kind, failure.status);
  } finally {
    clearTimeout(deadlineTimer);
  }
}

function modelNotFound(model: string): GatewayError {
  return new GatewayError(404, `The model "${model}" does not exist or this key may not use it. GET /v1/models lists the models you can use.`, 'invalid_request_error', 'model_not_found', 'model');
}

export function sendError(res: ServerResponse, error: GatewayError, requestId: string): void {
  res.writeHead(error.status, { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers });
  res.end(JSON.stringify(error.body()));
}

/** The body vLLM receives: the gateway's fields stripped, the completion cap written, usage always on. */
function forwardedBody(body: Record<string, unknown>, forwardedMaxTokens: number | undefined, stream: boolean): Record<string, unknown> {
  const { [priorityBodyField]: _tier, priority: _priority, ...rest } = body;
  const out: Record<string, unknown> = { ...rest };
  if (forwardedMaxTokens !== undefined) out.max_tokens = forwardedMaxTokens;
  if (stream) out.stream_options = { include_usage: true, continuous_usage_stats: true };
  return out;
}

async function sendWithFailover(
  deps: InferenceDeps,
  model: string,
  tier: Admission['tier'],
  body: Record<string, unknown>,
  kind: InferenceKind,
  requestId: string,
  signal: AbortSignal,
): Promise<Upstream> {
  const exclude = new Set<string>();
  let lastError: unknown;
  for (let attempt = 0; attempt <= failoverAttemptsMax; attempt++) {
    const lease = await deps.router.acquire(model, tier, { signal, exclude });
    const payload = JSON.stringify(lease.vllmPriority === undefined ? body : { ...body, priority: lease.vllmPriority });
    const sentAt = performance.now();
    try {
      const response = await requestUpstream(deps.pools.pool(lease.replica.url), {
        method: 'POST',
        path: kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: payload,
        signal,
        headersTimeout: deps.settings.requestTimeoutMs,
        bodyTimeout: deps.settings.requestTimeoutMs,
      });
      return { lease, statusCode: response.statusCode, body: response.body, sentAt };
    } catch (error) {
      lease.release({ ok: false });
      if (signal.aborted) throw error;
      exclude.add(lease.replica.id);
      lastError = error;
    }
  }
  throw new GatewayError(502, `No replica of ${model} answered (${(lastError as Error)?.message ?? 'unknown error'}); you were not charged. Retry shortly.`, 'server_error', 'upstream_unavailable', null, { 'retry-after': '1' });
}

async function readBounded(body: AsyncIterable<Buffer>, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > bytesMax) throw new GatewayError(502, `The model server's answer exceeded ${bytesMax} bytes; you were not charged.`, 'server_error', 'upstream_too_large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** vLLM refused or failed: nobody pays. Its 4xx (OpenAI-shaped) goes to the client as is. */
async function relayUpstreamError(deps: InferenceDeps, flight: Flight, upstream: Upstream, res: ServerResponse, requestId: string): Promise<void> {
  const text = await readBounded(upstream.body, errorBodyBytesMax).catch(() => '');
  if (flight.admission !== undefined) {
    flight.settled = true;
    await release(deps.ledger, flight.admission, `upstream ${upstream.statusCode}`);
  }
  if (upstream.statusCode >= 400 && upstream.statusCode < 500 && text.startsWith('{')) {
    res.writeHead(upstream.statusCode, { 'content-type': 'application/json', 'x-request-id': requestId, 'x-tokenwise-cost': '0' });
    res.end(text);
  } else {
    sendError(res, new GatewayError(502, `The model server failed (status ${upstream.statusCode}); you were not charged. Retry shortly.`, 'server_error', 'upstream_error'), requestId);
  }
  deps.metrics.countRequest('upstream_error', upstream.statusCode);
}

interface RelayMeta {
  /** The cluster as admitted: its carbon coefficients bounded the estimate, so they price the charge too. */
  cluster: ClusterInfo;
  principal: Principal;
  body: Record<string, unknown>;
  tags: Record<string, string>;
  startedAt: number;
  upstreamAbort: AbortSignal;
  clientGone: AbortSignal;
  timeout: AbortSignal;
}

/** Prices what was used (from the admission's price list) and builds the charge; nothing is written yet. */
function settle(
  deps: InferenceDeps,
  flight: Flight,
  upstream: Upstream,
  meta: RelayMeta,
  usage: TokenUsage,
  outcome: Completion['outcome'],
  ttftMs: number | undefined,
  completionText: string,
): { costs: Record<string, bigint>; commit: () => Promise<void> } {
  const admission = flight.admission;
  if (admission === undefined) throw new Error('settle without admission');
  const completion: Completion = {
    usage,
    cluster: meta.cluster,
    replica: upstream.lease.replica.id,
    latencyMs: performance.now() - meta.startedAt,
    ttftMs,
    outcome,
    endUser: typeof meta.body.user === 'string' ? meta.body.user.slice(0, 256) : null,
    tags: meta.tags,
  };
  const priced = priceUsage(admission, completion, deps.settings.modelProfiles);
  flight.settled = true;
  const commit = async () => {
    try {
      await charge(deps.ledger, admission, completion, priced, payloadOf(deps, meta.body, completionText));
    } catch (error) {
      // The hold stays: reconciliation (or its expiry) closes it. Never retried blindly here.
      deps.log(`request ${admission.requestId}: committing the charge failed: ${(error as Error).stack ?? String(error)}`);
      return;
    }
    deps.limiter?.recordTokens(meta.principal, usage.promptTokens + usage.completionTokens);
    deps.metrics.observeUsage(admission.model, usage.promptTokens, usage.completionTokens, priced.cost.totals, priced.co2eMicrograms);
  };
  return { costs: { ...priced.cost.totals }, commit };
}

/** Prompt and completion for the scoring plugins, capped; stored with the charge, in its transaction. */
function payloadOf(deps: InferenceDeps, body: Record<string, unknown>, completion: string): Record<string, unknown> {
  const cap = deps.settings.payloadBytesMax;
  const promptSource = body.messages ?? body.prompt ?? null;
  const promptText = JSON.stringify(promptSource);
  const promptTooLarge = Buffer.byteLength(promptText) > cap;
  return {
    prompt: promptTooLarge ? { truncated: promptText.slice(0, cap) } : promptSource,
    completion: completion.slice(0, cap),
    truncated: promptTooLarge || Buffer.byteLength(completion) > cap,
    expiresAt: new Date(Date.now() + deps.settings.payloadRetentionDays * 86_400_000),
  };
}

function costHeaders(costs: Record<string, bigint>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(costs).map(([currency, amount]) => [`x-tokenwise-${prefix}-${currency}`, amount.toString()]));
}

/** Remaining balance per currency: what was available after the hold, plus what the charge leaves of it. */
function balanceHeaders(admission: Admission, costs?: Record<string, bigint>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const hold of admission.holds) {
    if (hold.availableAfter === undefined) continue;
    const returned = costs === undefined ? 0n : hold.amount - (costs[hold.currency] ?? 0n);
    headers[`x-tokenwise-balance-${hold.currency}`] = (hold.availableAfter + returned).toString();
  }
  return headers;
}

async function relayJson(deps: InferenceDeps, flight: Flight, upstream: Upstream, res: ServerResponse, meta: RelayMeta, kind: InferenceKind): Promise<boolean> {
  const text = await readBounded(upstream.body, deps.settings.upstreamBodyBytesMax);
  const upstreamDoneAt = performance.now();
  let parsed: { usage?: unknown; choices?: { message?: { content?: unknown }; text?: unknown }[] };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new GatewayError(502, 'The model server answered with invalid JSON; you were not charged.', 'server_error', 'upstream_invalid');
  }
  const usage = usageOf(parsed as Parameters<typeof usageOf>[0]);
  if (usage === undefined) throw new GatewayError(502, 'The model server reported no usage, so the request cannot be metered; you were not charged.', 'server_error', 'upstream_no_usage');
  const first = parsed.choices?.[0];
  const completionText = String((kind === 'chat' ? first?.message?.content : first?.text) ?? '');
  const { costs, commit } = settle(deps, flight, upstream, meta, usage, 'completed', undefined, completionText);
  const admission = flight.admission as Admission;
  // The answer goes out first; the charge (priced above, never above the hold) commits right after.
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': flight.requestId, ...costHeaders(costs, 'cost'), ...balanceHeaders(admission, costs) });
  res.end(text);
  deps.metrics.observeAddedLatency(performance.now() - meta.startedAt - (upstreamDoneAt - upstream.sentAt));
  deps.metrics.countRequest(kind, 200);
  upstream.lease.release({ ok: true });
  const committing = performance.now();
  await commit();
  deps.metrics.observePhase('charge_after_response', performance.now() - committing);
  return true;
}

export interface ChunkJson {
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  choices?: { index?: unknown; delta?: { content?: unknown }; text?: unknown }[];
}

async function relayStream(deps: InferenceDeps, flight: Flight, upstream: Upstream, res: ServerResponse, meta: RelayMeta, kind: InferenceKind): Promise<boolean> {
  const admission = flight.admission as Admission;
  const options = (meta.body.stream_options ?? {}) as { include_usage?: unknown; continuous_usage_stats?: unknown };
  // vLLM turns include_usage on whenever stream_options is present; mirror what the client would get.
  const wantsUsage = meta.body.stream_options !== undefined && options.include_usage !== false;
  const wantsContinuous = options.continuous_usage_stats === true;
  const holdHeaders = costHeaders(Object.fromEntries(admission.holds.map((hold) => [hold.currency, hold.amount])), 'hold');
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': flight.requestId, ...holdHeaders, ...balanceHeaders(admission) });
  const relayStartedAt = performance.now();
  const tracker = new StreamUsage();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let completionText = '';
  let ttftMs: number | undefined;
  let done = false;
  // Tokens are coalesced into one write per flush interval (the first goes out at once), as vLLM's
  // own stream_interval does: one syscall per interval, not one per token.
  let pending = '';
  let lastFlushAt = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  const flushIntervalMs = deps.settings.streamFlushIntervalMs;
  // A stalled upstream must not hold back tokens already received: a timer flushes them.
  const flushLater = (delayMs: number) => {
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined;
      if (pending === '' || res.destroyed) return;
      lastFlushAt = performance.now();
      res.write(pending);
      pending = '';
    }, delayMs);
  };
  try {
    for await (const bytes of upstream.body) {
      let batch = '';
      for (const data of parser.push(decoder.decode(bytes, { stream: true }))) {
        if (data === '[DONE]') {
          done = true;
          batch += 'data: [DONE]\n\n';
          continue;
        }
        let chunk: ChunkJson;
        try {
          chunk = JSON.parse(data) as ChunkJson;
        } catch {
          batch += `data: ${data}\n\n`;
          continue;
        }
        tracker.observe(chunk as Parameters<StreamUsage['observe']>[0]);
        const choice = chunk.choices?.[0];
        const piece = kind === 'chat' ? choice?.delta?.content : choice?.text;
        if (typeof piece === 'string' && piece.length > 0) {
          ttftMs ??= performance.now() - meta.startedAt;
          if (choice?.index === 0 && completionText.length < deps.settings.payloadBytesMax) completionText += piece;
        }
        const finalUsage = Array.isArray(chunk.choices) && chunk.choices.length === 0;
        if (finalUsage && !wantsUsage) continue;
        const out = !finalUsage && !wantsContinuous && chunk.usage !== undefined && chunk.usage !== null ? withoutUsage(data, chunk, kind) : data;
        batch += `data: ${out}\n\n`;
      }
      pending += batch;
      if (done) {
        // [DONE]: the client has its whole answer in one write that also ends the response; the
        // upstream is still read to its end so that its connection stays reusable.
        clearTimeout(flushTimer);
        flushTimer = undefined;
        if (!res.destroyed && !res.writableEnded) res.end(pending);
        pending = '';
        continue;
      }
      const now = performance.now();
      if (pending !== '' && now - lastFlushAt >= flushIntervalMs) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
        lastFlushAt = now;
        const out = pending;
        pending = '';
        if (!(await write(res, out))) break;
      } else if (pending !== '') {
        flushLater(flushIntervalMs - (now - lastFlushAt));
      }
    }
    clearTimeout(flushTimer);
    if (pending !== '' && !res.destroyed) await write(res, pending);
  } catch (error) {
    clearTimeout(flushTimer);
    // A connection that breaks after [DONE] has delivered the whole answer: it is charged as completed.
    if (!meta.upstreamAbort.aborted && !done) return failStream(deps, flight, res, error);
  }
  if (meta.upstreamAbort.aborted || !done) {
    const cutByUs = meta.timeout.aborted || meta.clientGone.aborted;
    if (!cutByUs) return failStream(deps, flight, res, new Error('the model server closed the stream early'));
    // The client left (or the request ran out of time): pay for what was generated, nothing more.
    if (!tracker.seen()) {
      flight.settled = true;
      upstream.lease.release({ ok: true });
      await release(deps.ledger, admission, meta.clientGone.aborted ? 'client disconnected before any token' : 'timed out before any token');
      deps.metrics.countRequest(kind, 499);
      return true;
    }
    const { commit } = settle(deps, flight, upstream, meta, tracker.current(), 'client_aborted', ttftMs, completionText);
    if (!res.writableEnded) res.end();
    deps.metrics.countRequest(kind, 499);
    upstream.lease.release({ ok: true });
    await commit();
    return true;
  }
  const { commit } = settle(deps, flight, upstream, meta, tracker.current(), 'completed', ttftMs, completionText);
  if (!res.writableEnded) res.end();
  deps.metrics.observePhase('stream_relay', performance.now() - relayStartedAt);
  deps.metrics.countRequest(kind, 200);
  upstream.lease.release({ ok: true });
  await commit();
  return true;
}

/**
 * A chunk without the usage the client did not ask for (continuous usage): chat drops the field,
 * completions carry `"usage":null`, as vLLM sends them. vLLM writes usage as the chunk's last field,
 * a flat object; then it is cut from the text as is, else the chunk is serialised again.
 */
export function withoutUsage(data: string, chunk: ChunkJson, kind: InferenceKind): string {
  const at = data.lastIndexOf(',"usage":{');
  const keys = Object.keys(chunk);
  if (at > 0 && keys[keys.length - 1] === 'usage' && data.endsWith('}}') && data.indexOf('{', at + 10) < 0) {
    return kind === 'chat' ? `${data.slice(0, at)}}` : `${data.slice(0, at)},"usage":null}`;
  }
  const copy: ChunkJson = { ...chunk };
  if (kind === 'chat') delete copy.usage;
  else copy.usage = null;
  return JSON.stringify(copy);
}

/** Writes, waiting for the client to drain; false when the client has gone. */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  const drained = once(res, 'drain').then(() => true);
  const closed = once(res, 'close').then(() => false);
  return Promise.race([drained, closed]);
}

/** The upstream broke mid-stream: nobody pays; the client gets an error event. */
async function failStream(deps: InferenceDeps, flight: Flight, res: ServerResponse, error: unknown): Promise<boolean> {
  if (flight.admission !== undefined && !flight.settled) {
    flight.settled = true;
    await release(deps.ledger, flight.admission, `upstream failed mid-stream: ${(error as Error)?.message ?? String(error)}`);
  }
  const failure = new GatewayError(502, 'The model server failed during the answer; you were not charged. Retry the request.', 'server_error', 'upstream_failed_mid_stream');
  if (!res.writableEnded) res.end(`data: ${JSON.stringify(failure.body())}\n\n`);
  deps.metrics.countRequest('stream_upstream_error', 502);
  return false;
}
