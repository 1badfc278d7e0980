import { estimateAdmission, InsufficientFundsError, InvariantError, isDomainError, type CarbonModelProfile } from '@tokenwise/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { droppedFieldsHeader, namedDroppedFields, shapeBody } from './body-fields';
import { relayJson } from './json-relay';
import { admit, carbonProfileOf, co2eBoundFor, release, type Admission } from './metering';
import { GatewayError, toGatewayError } from './openai-error';
import type { UpstreamLease } from './ports';
import { Flight, settle, type InferenceDeps, type InferenceKind, type Outcome, type RelayMeta, type Upstream } from './relay-common';
import { priorityBodyField, readJsonBody, tagsOf, tierOf, validateInferenceBody } from './request-body';
import { holdTimeoutSeconds } from './settings';
import { relayStream } from './stream-relay';
import { requestUpstream } from './upstream-request';
import { readBounded } from './upstream-read';

export type { InferenceDeps, InferenceKind } from './relay-common';
export { withoutUsage, type ChunkJson } from './stream-relay';

/** Response header naming the body fields the gateway accepted and did not forward. */
export const droppedFieldsHeaderName = 'x-tokenwise-dropped-fields';

/** Tries on another replica when one fails before answering. */
const failoverAttemptsMax = 2;
const errorBodyBytesMax = 64 * 1024;

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
  let charged: Omit<RelayMeta, 'upstreamAbort' | 'clientGone' | 'timeout' | 'abandon'> | undefined;
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
    const { model, stream, body } = readInferenceBody(deps, kind, await readJsonBody(req, deps.settings.bodyBytesMax), res);
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
      endpoint: kind,
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
    charged = { principal, body, tags, startedAt, cluster };
    const early = deps.earlyForwarding.allowed(principal);
    if (!early) {
      flight.admission = await admitting;
      phase('admit');
    }
    const forwarded = forwardedBody(body, estimate.forwardedMaxTokens, stream);
    const timeout = deadline.signal;
    // Waiting for a model slot ends when the client leaves; once forwarded, a whole (non-stream)
    // answer is still read after the client left, so it is charged vLLM's own usage.
    const queueAbort = AbortSignal.any([clientGone.signal, timeout, holdRefused.signal]);
    const upstreamAbort = stream ? queueAbort : AbortSignal.any([timeout, holdRefused.signal]);
    const sending = sendWithFailover(deps, flight, { model, tier, body: forwarded, kind }, queueAbort, upstreamAbort);
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
      lease = undefined;
      await relayUpstreamError(deps, flight, upstream, res, requestId);
      return;
    }
    const meta: RelayMeta = { principal, body, tags, startedAt, upstreamAbort, clientGone: clientGone.signal, timeout, cluster, abandon: () => clientGone.abort() };
    const relayed = stream ? relayStream(deps, flight, upstream, res, meta, kind) : relayJson(deps, flight, upstream, res, meta, kind);
    // The relay releases the lease as soon as the upstream is done, before the charge commits.
    lease = undefined;
    const ok = await relayed.catch((error: unknown) => {
      // Only the model server's failures count against its replica, never the client's or ours.
      upstream.lease.release({ ok: !isUpstreamFault(error, upstreamAbort) });
      throw error;
    });
    if (!ok) upstream.lease.release({ ok: false });
  } catch (error) {
    lease?.release({ ok: !isUpstreamFault(error, deadline.signal) });
    // A request that failed while its hold was committing settles the hold once it is known.
    if (flight.admission === undefined && admitting !== undefined) flight.admission = await admitting.catch(() => undefined);
    const failure = deadline.signal.aborted && !(error instanceof GatewayError) ? deadlineError(deps, flight) : toGatewayError(error);
    if (failure.status >= 500 && failure.status !== 504) deps.log(`request ${requestId} failed: ${(error as Error).stack ?? String(error)}`);
    if (flight.admission !== undefined && !flight.settled && charged !== undefined && abandonedOrTimedOut(flight, clientGone.signal, deadline.signal)) {
      // Admitted, then the client left (or the model outlived the deadline): never free.
      await chargeAbandoned(deps, flight, charged, clientGone.signal.aborted ? 'client_aborted' : 'timed_out');
    } else if (flight.admission !== undefined && !flight.settled) {
      flight.settled = true;
      await release(deps.ledger, flight.admission, failure.message).catch((voidError: unknown) => deps.log(`request ${requestId}: releasing its holds failed (reconciliation will): ${String(voidError)}`));
    }
    if (!res.headersSent) sendError(res, failure, requestId);
    else if (!res.writableEnded) res.end(`data: ${JSON.stringify(failure.body())}\n\n`);
    deps.metrics.countRequest(kind, clientGone.signal.aborted ? 499 : failure.status);
  } finally {
    clearTimeout(deadlineTimer);
  }
}

/** The body as forwarded: the endpoint's fields only (the dropped ones named in a header), validated. */
function readInferenceBody(deps: InferenceDeps, kind: InferenceKind, raw: Record<string, unknown>, res: ServerResponse): { model: string; stream: boolean; body: Record<string, unknown> } {
  const { body, dropped } = shapeBody(kind, raw);
  if (dropped.length > 0) {
    res.setHeader(droppedFieldsHeaderName, droppedFieldsHeader(dropped));
    for (const field of dropped) deps.metrics.countDroppedField(namedDroppedFields.has(field) ? field : 'other');
  }
  const { model, stream } = validateInferenceBody(kind, body);
  return { model, stream, body };
}

/**
 * The client left after admission (queued, or while the model worked), or the deadline cut a
 * request the model was working on. A deadline that expired while the request still waited for a
 * model slot is the platform's doing: that is released, not charged.
 */
function abandonedOrTimedOut(flight: Flight, clientGone: AbortSignal, deadline: AbortSignal): boolean {
  if (clientGone.aborted) return true;
  return deadline.aborted && flight.forwarded !== undefined;
}

/** Charges what an abandoned request used: no tokens were counted, so the fixed terms (model weight, priority fee). */
async function chargeAbandoned(deps: InferenceDeps, flight: Flight, charged: Omit<RelayMeta, 'upstreamAbort' | 'clientGone' | 'timeout' | 'abandon'>, outcome: Outcome): Promise<void> {
  const { commit } = settle(deps, flight, flight.forwarded?.replica ?? 'none', charged, { promptTokens: 0, completionTokens: 0 }, outcome, undefined, '');
  await commit();
}

function deadlineError(deps: InferenceDeps, flight: Flight): GatewayError {
  const seconds = Math.round(deps.settings.requestTimeoutMs / 1000);
  const charged = flight.forwarded === undefined ? 'you were not charged' : 'the model had started, so the fixed part of the price was charged';
  return new GatewayError(504, `The request ran past the gateway's ${seconds} s limit and was stopped (${charged}). Lower max_tokens or use stream: true.`, 'server_error', 'gateway_timeout');
}

/** True when `error` is the model server's failure (it counts against the replica's circuit breaker). */
function isUpstreamFault(error: unknown, cutByUs: AbortSignal): boolean {
  if (cutByUs.aborted) return false;
  if (error instanceof GatewayError) return error.status === 502 || error.status === 504;
  // Socket and protocol errors while reading the answer come from the upstream; our own bugs are
  // domain or invariant errors.
  return !isDomainError(error) && !(error instanceof InvariantError) && !(error instanceof TypeError) && !(error instanceof RangeError);
}

function modelNotFound(model: string): GatewayError {
  return new GatewayError(404, `The model "${model}" does not exist or this key may not use it. GET /v1/models lists the models you can use.`, 'invalid_request_error', 'model_not_found', 'model');
}

export function sendError(res: ServerResponse, error: GatewayError, requestId: string): void {
  res.writeHead(error.status, { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers });
  res.end(JSON.stringify(error.body()));
}

/**
 * The body vLLM receives: the endpoint's fields, the gateway's own stripped, one completion cap
 * (`max_tokens`, the held bound per choice; vLLM would prefer `max_completion_tokens`), usage on.
 */
function forwardedBody(body: Record<string, unknown>, maxTokens: number, stream: boolean): Record<string, unknown> {
  const { [priorityBodyField]: _tier, priority: _priority, max_completion_tokens: _cap, stream_options: _options, ...rest } = body;
  const out: Record<string, unknown> = { ...rest, max_tokens: maxTokens };
  if (stream) out.stream_options = { include_usage: true, continuous_usage_stats: true };
  return out;
}

interface Forwarding {
  model: string;
  tier: Admission['tier'];
  body: Record<string, unknown>;
  kind: InferenceKind;
}

async function sendWithFailover(deps: InferenceDeps, flight: Flight, request: Forwarding, queueSignal: AbortSignal, upstreamSignal: AbortSignal): Promise<Upstream> {
  const exclude = new Set<string>();
  let lastError: unknown;
  for (let attempt = 0; attempt <= failoverAttemptsMax; attempt++) {
    const lease = await deps.router.acquire(request.model, request.tier, { signal: queueSignal, exclude });
    const payload = JSON.stringify(lease.vllmPriority === undefined ? request.body : { ...request.body, priority: lease.vllmPriority });
    const sentAt = performance.now();
    flight.forwarded = { replica: lease.replica.id };
    try {
      const response = await requestUpstream(deps.pools.pool(lease.replica.url), {
        method: 'POST',
        path: request.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
        headers: { 'content-type': 'application/json', 'x-request-id': flight.requestId },
        body: payload,
        signal: upstreamSignal,
        headersTimeout: deps.settings.requestTimeoutMs,
        bodyTimeout: deps.settings.requestTimeoutMs,
      });
      return { lease, statusCode: response.statusCode, body: response.body, sentAt };
    } catch (error) {
      if (upstreamSignal.aborted) {
        lease.release({ ok: true });
        throw error;
      }
      lease.release({ ok: false });
      flight.forwarded = undefined;
      exclude.add(lease.replica.id);
      lastError = error;
    }
  }
  throw new GatewayError(502, `No replica of ${request.model} answered (${(lastError as Error)?.message ?? 'unknown error'}); you were not charged. Retry shortly.`, 'server_error', 'upstream_unavailable', null, { 'retry-after': '1' });
}

/** vLLM refused or failed: nobody pays. Its 4xx (OpenAI-shaped) goes to the client as is. */
async function relayUpstreamError(deps: InferenceDeps, flight: Flight, upstream: Upstream, res: ServerResponse, requestId: string): Promise<void> {
  const text = await readBounded(upstream.body, errorBodyBytesMax).catch(() => '');
  upstream.lease.release({ ok: upstream.statusCode < 500 });
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


