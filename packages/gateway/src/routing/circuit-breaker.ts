import { invariant } from '@tokenwise/core';
import { type CircuitState } from './types';

export const circuitFailuresToOpenDefault = 5;
export const circuitCooldownMsDefault = 5_000;

/**
 * One replica's breaker. Closed until `failuresToOpen` consecutive failures; open for `cooldownMs`;
 * then half-open: exactly one trial request, whose outcome closes or re-opens it. Outcomes of
 * requests that started before the circuit opened are ignored: they say nothing new.
 */
export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAtMs = 0;
  private trialInFlight = false;

  constructor(
    private readonly failuresToOpen: number,
    private readonly cooldownMs: number,
  ) {
    invariant(Number.isInteger(failuresToOpen) && failuresToOpen >= 1, 'failuresToOpen must be a positive integer');
    invariant(Number.isFinite(cooldownMs) && cooldownMs >= 0, 'cooldownMs must be a non-negative number');
  }

  /** The state at `nowMs`: an open circuit whose cooldown has passed reads as half-open. */
  state(nowMs: number): CircuitState {
    if (this.stateValue === 'open' && nowMs - this.openedAtMs >= this.cooldownMs) {
      this.stateValue = 'half-open';
      this.trialInFlight = false;
    }
    return this.stateValue;
  }

  /** Whether a new request may start now. */
  allows(nowMs: number): boolean {
    const state = this.state(nowMs);
    return state === 'closed' || (state === 'half-open' && !this.trialInFlight);
  }

  /** Records that a request starts; returns true when it is the half-open trial. */
  start(nowMs: number): boolean {
    invariant(this.allows(nowMs), 'a request started on a circuit that does not allow it');
    if (this.stateValue === 'closed') return false;
    this.trialInFlight = true;
    return true;
  }

  /** Records an outcome; returns true when this outcome opened the circuit. */
  finish(ok: boolean, trial: boolean, nowMs: number): boolean {
    if (trial) {
      invariant(this.stateValue === 'half-open' && this.trialInFlight, 'a trial finished while no trial was in flight');
      this.trialInFlight = false;
      if (ok) {
        this.close();
        return false;
      }
      this.open(nowMs);
      return true;
    }
    if (this.stateValue !== 'closed') return false;
    if (ok) {
      this.consecutiveFailures = 0;
      return false;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures < this.failuresToOpen) return false;
    this.open(nowMs);
    return true;
  }

  /** A trial lease given back unused (its waiter was aborted): the next request is the trial. */
  cancelTrial(): void {
    invariant(this.stateValue === 'half-open' && this.trialInFlight, 'cancelTrial without a trial in flight');
    this.trialInFlight = false;
  }

  private open(nowMs: number): void {
    this.stateValue = 'open';
    this.openedAtMs = nowMs;
    this.consecutiveFailures = 0;
  }

  private close(): void {
    this.stateValue = 'closed';
    this.consecutiveFailures = 0;
  }
}
