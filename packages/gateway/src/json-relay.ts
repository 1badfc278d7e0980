import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Admission } from './metering';
import { GatewayError } from './openai-error';
import {
  balanceHeaders,
  costHeaders,
  priceCharge,
  type Flight,
  type InferenceDeps,
  type InferenceKind,
  type Outcome,
  type RelayMeta,
  type Upstream,
} from './relay-common';
import { usageOf } from './stream-usage';
import { readBounded } from './upstream-read';

/**
 * Relays a whole (non-streaming) answer. A client that left meanwhile does not stop the model (the
 * upstream request ignores the client's disconnect): its answer is still read, so the request is
 * charged vLLM's own usage, as if the client had stayed.
 */
export async function relayJson(
  deps: InferenceDeps,
  flight: Flight,
  upstream: Upstream,
  res: ServerResponse,
  meta: RelayMeta,
  kind: InferenceKind,
): Promise<boolean> {
  const text = await readBounded(upstream.body, deps.settings.upstreamBodyBytesMax);
  const upstreamDoneAt = performance.now();
  let parsed: { usage?: unknown; choices?: { message?: { content?: unknown }; text?: unknown }[] };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new GatewayError(
      502,
      'The model server answered with invalid JSON; you were not charged.',
      'server_error',
      'upstream_invalid',
    );
  }
  const usage = usageOf(parsed as Parameters<typeof usageOf>[0]);
  if (usage === undefined)
    throw new GatewayError(
      502,
      'The model server reported no usage, so the request cannot be metered; you were not charged.',
      'server_error',
      'upstream_no_usage',
    );
  const first = parsed.choices?.[0];
  const completionText = String((kind === 'chat' ? first?.message?.content : first?.text) ?? '');
  const outcome: Outcome = meta.clientGone.aborted ? 'client_aborted' : 'completed';
  const { costs, commit } = priceCharge(
    deps,
    flight,
    upstream.lease.replica.id,
    meta,
    usage,
    outcome,
    undefined,
    completionText,
  );
  const admission = flight.admission as Admission;
  // The answer goes out first; the charge (priced above, never above the hold) commits right after.
  if (!res.destroyed) {
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-request-id': flight.requestId,
      ...costHeaders(costs, 'cost'),
      ...balanceHeaders(admission, costs),
    });
    res.end(text);
  }
  deps.metrics.observeAddedLatency(performance.now() - meta.startedAt - (upstreamDoneAt - upstream.sentAt));
  deps.metrics.countRequest(kind, outcome === 'client_aborted' ? 499 : 200);
  upstream.lease.release({ ok: true });
  const committing = performance.now();
  await commit();
  deps.metrics.observePhase('charge_after_response', performance.now() - committing);
  return true;
}
