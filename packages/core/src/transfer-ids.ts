import { ValidationError } from './errors';

/** Longest id an admin may give a grant: with its org prefix it stays far below the ledger's 200. */
export const grantClientIdLengthMax = 128;
const grantClientIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The ledger transfer id of a grant an admin of `orgId` named `clientId` (`--id welcome-alice`, the
 * API's `id`): namespaced by the org, so no org can take an id another org will use, and a conflict
 * can only ever be with the same org's own grant. The org id has a fixed length, so the mapping is
 * one to one.
 */
export function grantTransferId(orgId: string, clientId: string): string {
  if (!uuidPattern.test(orgId))
    throw new ValidationError(`A grant's org must be an org id (a UUID), got "${orgId.slice(0, 64)}".`);
  if (clientId.length === 0 || clientId.length > grantClientIdLengthMax || !grantClientIdPattern.test(clientId)) {
    throw new ValidationError(
      `Invalid grant id: use 1..${grantClientIdLengthMax} letters, digits and . _ : @ - (starting with a letter or digit), e.g. "welcome-alice".`,
      { issues: ['id: invalid grant id'] },
    );
  }
  return `grant-${orgId}-${clientId}`;
}

/** The id the admin gave a grant of `orgId`, from its transfer id; undefined when it is not one. */
export function grantClientIdOf(orgId: string, transferId: string): string | undefined {
  const prefix = `grant-${orgId}-`;
  return transferId.startsWith(prefix) ? transferId.slice(prefix.length) : undefined;
}

/*
 * The ledger transfer ids of one request's money movements. Ids are idempotency keys: the gateway,
 * reconciliation and settlement build the same id for the same movement, so no retry, duplicate
 * delivery or restart moves tokens twice. Request ids are minted by the gateway (never a client's),
 * so they cannot be squatted.
 */

/**
 * The prefixes of those ids, for queries that find a request's movements in SQL (passed as
 * parameters: `${transferIdPrefix.hold} || request_id || '-' || currency`).
 */
export const transferIdPrefix = { hold: 'hold-', charge: 'charge-', void: 'void-' } as const;

/** The hold admission places on the payer's wallet in `currency`. */
export const holdTransferId = (requestId: string, currency: string): string =>
  `${holdTransferIdPrefix(requestId)}${currency}`;
/** Every hold of a request starts with this (one per currency). */
export const holdTransferIdPrefix = (requestId: string): string => `${transferIdPrefix.hold}${requestId}-`;
/** Posting the hold for what the request actually cost. */
export const chargeTransferId = (requestId: string, currency: string): string =>
  `${transferIdPrefix.charge}${requestId}-${currency}`;
/** Releasing the hold when nobody pays (an upstream failure, a refusal, reconciliation). */
export const voidTransferId = (requestId: string, currency: string): string =>
  `${transferIdPrefix.void}${requestId}-${currency}`;
/** The ledger's own release of a lapsed pending transfer. */
export const expireTransferId = (pendingId: string): string => `expire-${pendingId}`;
/** Settlement's refund of part of the request's cost. */
export const refundTransferId = (requestId: string): string => `refund-${requestId}`;
/** Settlement's reward from the org's reward pool. */
export const rewardTransferId = (requestId: string): string => `reward-${requestId}`;
/** The reward's debit of the user's monthly reward-cap account, in the reward's linked chain. */
export const rewardCapTransferId = (requestId: string): string => `reward-cap-${requestId}`;
