import type { ServerResponse } from 'node:http';
import { release } from './metering';
import { GatewayError, sendError, toGatewayError } from './openai-error';
import {
  priceCharge,
  type Flight,
  type InferenceDeps,
  type InferenceKind,
  type Outcome,
  type RelayMeta,
} from './relay-common';
import type { CancelSignal } from './abort';

/** What a charge of an abandoned request needs to know about it. */
export type ChargeableRequest = Omit<RelayMeta, 'upstreamAbort' | 'clientGone' | 'timeout' | 'abandon'>;

/**
 * Ends a request that failed: charges it when the client left after admission (or the deadline cut
 * the model's work), else releases its holds; then answers with OpenAI's error JSON.
 */
export async function endFailedRequest(
  deps: InferenceDeps,
  kind: InferenceKind,
  flight: Flight,
  res: ServerResponse,
  error: unknown,
  signals: { clientGone: CancelSignal; deadline: CancelSignal },
  chargeable: ChargeableRequest | undefined,
): Promise<void> {
  const { requestId } = flight;
  const failure =
    signals.deadline.aborted && !(error instanceof GatewayError) ? deadlineError(deps, flight) : toGatewayError(error);
  if (failure.status >= 500 && failure.status !== 504)
    deps.log(`request ${requestId} failed: ${(error as Error).stack ?? String(error)}`);
  if (
    flight.admission !== undefined &&
    !flight.resolved &&
    chargeable !== undefined &&
    abandonedOrTimedOut(flight, signals.clientGone, signals.deadline)
  ) {
    // Admitted, then the client left (or the model outlived the deadline): never free.
    await chargeAbandoned(deps, flight, chargeable, signals.clientGone.aborted ? 'client_aborted' : 'timed_out');
  } else if (flight.admission !== undefined && !flight.resolved) {
    flight.resolved = true;
    await release(deps.ledger, flight.admission, failure.message).catch((voidError: unknown) =>
      deps.log(`request ${requestId}: releasing its holds failed (reconciliation will): ${String(voidError)}`),
    );
  }
  if (!res.headersSent) sendError(res, failure, requestId);
  else if (!res.writableEnded) res.end(`data: ${JSON.stringify(failure.body())}\n\n`);
  deps.metrics.countRequest(kind, signals.clientGone.aborted ? 499 : failure.status);
}

/**
 * The client left after admission (queued, or while the model worked), or the deadline cut a
 * request the model was working on. A deadline that expired while the request still waited for a
 * model slot is the platform's doing: that is released, not charged.
 */
function abandonedOrTimedOut(flight: Flight, clientGone: CancelSignal, deadline: CancelSignal): boolean {
  if (clientGone.aborted) return true;
  return deadline.aborted && flight.forwarded !== undefined;
}

/** Charges what an abandoned request used: no tokens were counted, so the fixed terms (model weight, priority fee). */
async function chargeAbandoned(
  deps: InferenceDeps,
  flight: Flight,
  charged: ChargeableRequest,
  outcome: Outcome,
): Promise<void> {
  const { commit } = priceCharge(
    deps,
    flight,
    flight.forwarded?.replica ?? 'none',
    { ...charged, cluster: flight.forwarded?.cluster ?? charged.cluster },
    { promptTokens: 0, completionTokens: 0 },
    outcome,
    undefined,
    '',
  );
  await commit();
}

function deadlineError(deps: InferenceDeps, flight: Flight): GatewayError {
  const seconds = Math.round(deps.settings.requestTimeoutMs / 1000);
  const charged =
    flight.forwarded === undefined
      ? 'you were not charged'
      : 'the model had started, so the fixed part of the price was charged';
  return new GatewayError(
    504,
    `The request ran past the gateway's ${seconds} s limit and was stopped (${charged}). Lower max_tokens or use stream: true.`,
    'server_error',
    'gateway_timeout',
  );
}
