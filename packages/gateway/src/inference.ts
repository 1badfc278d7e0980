import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { linkedSignal, RequestAbort } from './abort';
import { startAdmission } from './admission';
import { forwardedBody, isUpstreamFault, relayUpstreamError, sendWithFailover } from './forwarding';
import { relayJson } from './json-relay';
import type { Admission } from './metering';
import { GatewayError } from './openai-error';
import type { UpstreamLease } from './ports';
import { Flight, type InferenceDeps, type InferenceKind, type RelayMeta } from './relay-common';
import { endFailedRequest, type ChargeableRequest } from './request-endings';
import { prefersCleanCluster } from './routing/index';
import { relayStream } from './stream-relay';

export type { InferenceDeps, InferenceKind } from './relay-common';
export { droppedFieldsHeaderName } from './body-fields';
export { sendError } from './openai-error';
export { withoutUsage, type ChunkJson } from './stream-relay';

/** POST /v1/chat/completions and /v1/completions: authenticate, price, hold, queue, forward, meter, charge. */
export async function handleInference(
  deps: InferenceDeps,
  kind: InferenceKind,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const startedAt = performance.now();
  const flight = new Flight(requestId);
  const clientGone = new RequestAbort();
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort();
  });
  let lease: UpstreamLease | undefined;
  const deadline = new RequestAbort();
  const deadlineTimer = setTimeout(() => deadline.abort(), deps.settings.requestTimeoutMs);
  const holdRefused = new RequestAbort();
  let admitting: Promise<Admission> | undefined;
  let chargeable: ChargeableRequest | undefined;
  try {
    const principal = await deps.auth.authenticate(req.headers.authorization);
    let mark = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      deps.metrics.observePhase(name, now - mark);
      mark = now;
    };
    phase('authenticate');
    if (!principal.scopes.includes('inference'))
      throw new GatewayError(
        403,
        'This API key has no inference scope; use a key created with --scopes inference.',
        'permission_error',
        'forbidden',
      );
    const admission = await startAdmission(deps, kind, req, res, requestId, principal, phase);
    const { model, stream, body, tier, tags, cluster, clusters, estimate } = admission;
    admitting = admission.admitting;
    chargeable = { principal, body, tags, startedAt, cluster };
    const early = deps.earlyForwarding.allowed(principal);
    if (!early) {
      flight.admission = await admitting;
      phase('admit');
    }
    const forwarded = forwardedBody(body, estimate.forwardedMaxTokens, stream);
    // Waiting for a model slot ends when the client leaves; once forwarded, a whole (non-stream)
    // answer is still read after the client left, so it is charged vLLM's own usage.
    const queueAbort = linkedSignal([clientGone, deadline, holdRefused]);
    const upstreamAbort = stream ? queueAbort : linkedSignal([deadline, holdRefused]);
    const preferClean = prefersCleanCluster(tier, principal.carbonAwareRouting);
    const within = new Set(clusters.map((reachable) => reachable.name));
    const sending = sendWithFailover(
      deps,
      flight,
      { model, tier, body: forwarded, kind, preferClean, within },
      queueAbort,
      upstreamAbort,
    );
    if (early) {
      // Sent while the hold commits: nothing reaches the client before the hold is durable.
      sending.catch(() => undefined);
      try {
        flight.admission = await admitting;
      } catch (error) {
        holdRefused.abort();
        await sending.then(
          (refusedUpstream) => refusedUpstream.lease.release({ ok: true }),
          () => undefined,
        );
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
    const meta: RelayMeta = {
      principal,
      body,
      tags,
      startedAt,
      upstreamAbort,
      clientGone,
      timeout: deadline,
      cluster: upstream.lease.cluster,
      abandon: () => clientGone.abort(),
    };
    const relayed = stream
      ? relayStream(deps, flight, upstream, res, meta, kind)
      : relayJson(deps, flight, upstream, res, meta, kind);
    // The relay releases the lease as soon as the upstream is done, before the charge commits.
    lease = undefined;
    const ok = await relayed.catch((error: unknown) => {
      // Only the model server's failures count against its replica, never the client's or ours.
      upstream.lease.release({ ok: !isUpstreamFault(error, upstreamAbort) });
      throw error;
    });
    if (!ok) upstream.lease.release({ ok: false });
  } catch (error) {
    lease?.release({ ok: !isUpstreamFault(error, deadline) });
    // A request that failed while its hold was committing releases the hold once it is known.
    if (flight.admission === undefined && admitting !== undefined)
      flight.admission = await admitting.catch(() => undefined);
    await endFailedRequest(deps, kind, flight, res, error, { clientGone, deadline }, chargeable);
  } finally {
    clearTimeout(deadlineTimer);
  }
}
