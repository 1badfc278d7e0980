import { InvariantError, isDomainError } from '@tokenwise/core';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { release, type Admission } from './metering';
import { GatewayError, sendError } from './openai-error';
import type { Flight, InferenceDeps, InferenceKind, Upstream } from './relay-common';
import { priorityBodyField } from './request-body';
import { requestUpstream } from './upstream-request';
import { readBounded } from './upstream-read';
import type { CancelSignal } from './abort';

/** Tries on another replica when one fails before answering. */
const failoverAttemptsMax = 2;
const errorBodyBytesMax = 64 * 1024;

/**
 * The body vLLM receives: the endpoint's fields, the gateway's own stripped, one completion cap
 * (`max_tokens`, the held bound per choice; vLLM would prefer `max_completion_tokens`), usage on.
 */
export function forwardedBody(
  body: Record<string, unknown>,
  maxTokens: number,
  stream: boolean,
): Record<string, unknown> {
  const {
    [priorityBodyField]: _tier,
    priority: _priority,
    max_completion_tokens: _cap,
    stream_options: _options,
    ...rest
  } = body;
  const out: Record<string, unknown> = { ...rest, max_tokens: maxTokens };
  if (stream) out.stream_options = { include_usage: true, continuous_usage_stats: true };
  return out;
}

export interface Forwarding {
  model: string;
  tier: Admission['tier'];
  body: Record<string, unknown>;
  kind: InferenceKind;
  /** Prefer the cleanest cluster serving the model over the least loaded (see prefersCleanCluster). */
  preferClean: boolean;
  /** Names of the clusters admission sized the hold for: the request goes to none other. */
  within: ReadonlySet<string>;
}

export async function sendWithFailover(
  deps: InferenceDeps,
  flight: Flight,
  request: Forwarding,
  queueSignal: CancelSignal,
  upstreamSignal: CancelSignal,
): Promise<Upstream> {
  const exclude = new Set<string>();
  let lastError: unknown;
  for (let attempt = 0; attempt <= failoverAttemptsMax; attempt++) {
    const lease = await deps.router.acquire(request.model, request.tier, {
      signal: queueSignal,
      exclude,
      preferClean: request.preferClean,
      within: request.within,
    });
    const payload = JSON.stringify(
      lease.vllmPriority === undefined ? request.body : { ...request.body, priority: lease.vllmPriority },
    );
    const sentAt = performance.now();
    flight.forwarded = { replica: lease.replica.id, cluster: lease.cluster };
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
  throw new GatewayError(
    502,
    `No replica of ${request.model} answered (${(lastError as Error)?.message ?? 'unknown error'}); you were not charged. Retry shortly.`,
    'server_error',
    'upstream_unavailable',
    null,
    { 'retry-after': '1' },
  );
}

/** vLLM refused or failed: nobody pays. Its 4xx (OpenAI-shaped) goes to the client as is. */
export async function relayUpstreamError(
  deps: InferenceDeps,
  flight: Flight,
  upstream: Upstream,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const text = await readBounded(upstream.body, errorBodyBytesMax).catch(() => '');
  upstream.lease.release({ ok: upstream.statusCode < 500 });
  if (flight.admission !== undefined) {
    flight.resolved = true;
    await release(deps.ledger, flight.admission, `upstream ${upstream.statusCode}`);
  }
  if (upstream.statusCode >= 400 && upstream.statusCode < 500 && text.startsWith('{')) {
    res.writeHead(upstream.statusCode, {
      'content-type': 'application/json',
      'x-request-id': requestId,
      'x-tokenwise-cost': '0',
    });
    res.end(text);
  } else {
    sendError(
      res,
      new GatewayError(
        502,
        `The model server failed (status ${upstream.statusCode}); you were not charged. Retry shortly.`,
        'server_error',
        'upstream_error',
      ),
      requestId,
    );
  }
  deps.metrics.countRequest('upstream_error', upstream.statusCode);
}

/** True when `error` is the model server's failure (it counts against the replica's circuit breaker). */
export function isUpstreamFault(error: unknown, cutByUs: CancelSignal): boolean {
  if (cutByUs.aborted) return false;
  if (error instanceof GatewayError) return error.status === 502 || error.status === 504;
  // Socket and protocol errors while reading the answer come from the upstream; our own bugs are
  // domain or invariant errors.
  return (
    !isDomainError(error) &&
    !(error instanceof InvariantError) &&
    !(error instanceof TypeError) &&
    !(error instanceof RangeError)
  );
}
