import { defineQuery, defineSignal } from '@temporalio/workflow';

/** What the relay starts a raise's workflow with (from the raise row). */
export interface CarbonRaiseInput {
  raiseId: string;
  /** When nobody deciding by then denies the raise (ISO instant, the row's `deadlineAt`). */
  deadlineAt: string;
}

/** How a raise's workflow ended. */
export interface CarbonRaiseResult {
  raiseId: string;
  state: 'approved' | 'denied';
  /** A user id, or `deadline`. */
  decidedBy: string | null;
  grantedMicrograms: bigint | null;
  /** An approved `until` raise: its last period's close, when the workflow marked it ended. */
  endedAt?: string;
}

export type CarbonRaisePhase = 'notifying' | 'waiting' | 'deciding' | 'granting' | 'running-until' | 'done';

/** The workflow id of a raise's approval: one per raise, ever. */
export function carbonRaiseWorkflowId(raiseId: string): string {
  return `carbon-raise-${raiseId}`;
}

/**
 * A decision was committed to the raise row (the relay sends it from the decision's outbox row).
 * It carries no decision: the row is the truth, so a duplicate or late signal changes nothing.
 */
export const carbonRaiseDecidedSignal = defineSignal<[{ raiseId: string }]>('carbonRaiseDecided');

/** Where a raise's workflow stands. */
export const carbonRaisePhaseQuery = defineQuery<CarbonRaisePhase>('carbonRaisePhase');
