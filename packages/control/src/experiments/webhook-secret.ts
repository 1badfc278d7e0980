import { ValidationError } from '@tokenwise/core';
import { createHmac } from 'node:crypto';
import { pepperBytesMin } from '../keys/key-format';

/** The only scope of a service key that an experimentation platform holds. */
export const experimentsScope = 'experiments';
/** The system account owning service keys with the experiments scope (they bill nothing: no inference). */
export const experimentsSystemOwner = 'experiments';
/** Prefix of a webhook signing secret, as Standard Webhooks writes them: `whsec_<base64 of the key bytes>`. */
export const webhookSecretPrefix = 'whsec_';

/**
 * The key bytes that sign `POST /webhooks/experiments` for a service key: HMAC-SHA-256 under the
 * server's key pepper of `experiments-webhook:<keyId>`. Derived, never stored: the same pepper gives
 * the same secret on every replica, and revoking the key refuses its webhooks too.
 */
export function experimentsWebhookKey(pepper: Buffer, keyId: string): Buffer {
  if (pepper.length < pepperBytesMin)
    throw new ValidationError(`The key pepper must be at least ${pepperBytesMin} bytes.`);
  return createHmac('sha256', pepper).update(`experiments-webhook:${keyId}`).digest();
}

/**
 * The signing secret as given to the platform once, at key creation and at each rotation: `whsec_`
 * and the key bytes in base64. Bound to the key id, so a rotated key signs with a new secret and
 * the old secret works only as long as the old key does (its overlap).
 */
export function experimentsWebhookSecret(pepper: Buffer, keyId: string): string {
  return `${webhookSecretPrefix}${experimentsWebhookKey(pepper, keyId).toString('base64')}`;
}
