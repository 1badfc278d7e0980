import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { NotFoundError, SettlementClosedError, ValidationError } from '@tokenwise/core';
import { externalEvidenceProblem, type ExternalEvidence } from './external-evidence';
import { externalEvidenceSignal } from './queries';
import { settlementWorkflowId } from './relay';
import type { SettlementResult } from './types';

export { SettlementClosedError } from '@tokenwise/core';

function describeResult(result: SettlementResult): string {
  const parts = [result.status, result.score === undefined ? 'no score' : `score ${result.score}`];
  if (result.refund !== undefined) parts.push(`refund ${result.refund}`);
  if (result.reward !== undefined) parts.push(`reward ${result.reward}`);
  return `${parts.join(', ')}: ${result.reason}`;
}

/** The domain error for a signal Temporal refused: the settlement completed, closed otherwise, or never existed. */
async function refusalOf(handle: WorkflowHandle, requestId: string, evidenceId: string): Promise<Error> {
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return new NotFoundError(
      `no settlement exists for request ${requestId}: the request was never charged, or its settlement has not started yet (the outbox relay starts it within seconds); send the evidence again later`,
      { requestId, evidenceId },
    );
  }
  if (status === 'COMPLETED') {
    const result = (await handle.result()) as SettlementResult;
    return new SettlementClosedError(
      `the settlement of request ${requestId} already completed (${describeResult(result)}); evidence ${evidenceId} arrived too late and was not used`,
      { requestId, evidenceId, result },
    );
  }
  return new SettlementClosedError(
    `the settlement of request ${requestId} is closed (${status.toLowerCase()}); evidence ${evidenceId} was not used`,
    { requestId, evidenceId, status },
  );
}

/**
 * Delivers external evidence (an A/B result, say) to the running settlement of `requestId`. Checks
 * it first (ValidationError); a settlement that already completed or never started is a domain
 * error saying so. Redelivery with the same `evidenceId` is harmless: the settlement counts it once.
 * Evidence that reaches a settlement after its plugins finished is recorded there as rejected.
 */
export async function sendExternalEvidence(
  client: Client,
  requestId: string,
  evidence: ExternalEvidence,
): Promise<void> {
  const problem = externalEvidenceProblem(evidence);
  if (problem !== undefined)
    throw new ValidationError(`external evidence for request ${requestId} refused: ${problem}`, { requestId });
  const handle = client.workflow.getHandle(settlementWorkflowId(requestId));
  try {
    await handle.signal(externalEvidenceSignal, evidence);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    throw await refusalOf(handle, requestId, evidence.evidenceId);
  }
}
