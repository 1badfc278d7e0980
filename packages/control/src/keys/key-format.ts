import { invariant } from '@tokenwise/core';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
const base62Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const keyIdLength = 12;
/** 43 base62 characters: about 256 bits. */
export const keySecretLength = 43;
const keyPattern = /^tw_([a-z2-7]{12})_([0-9A-Za-z]{43})$/;
export const keyIdPattern = /^[a-z2-7]{12}$/;
export const pepperBytesMin = 32;

/** 12 lowercase base32 characters (60 bits): 256 is a multiple of 32, so `byte & 31` is unbiased. */
export function newKeyId(): string {
  const bytes = randomBytes(keyIdLength);
  let id = '';
  for (const byte of bytes) id += base32Alphabet[byte & 31];
  return id;
}

/** Base62 by rejection sampling (bytes >= 248 are dropped), so every character is uniform. */
export function newKeySecret(): string {
  let secret = '';
  while (secret.length < keySecretLength) {
    for (const byte of randomBytes(64)) {
      if (byte >= 248) continue;
      secret += base62Alphabet[byte % 62];
      if (secret.length === keySecretLength) break;
    }
  }
  return secret;
}

export function formatKey(id: string, secret: string): string {
  return `tw_${id}_${secret}`;
}

/** The id and secret of a well-formed key, or undefined. */
export function parseKey(key: string): { id: string; secret: string } | undefined {
  const match = keyPattern.exec(key);
  if (match === null) return undefined;
  return { id: match[1] as string, secret: match[2] as string };
}

/** HMAC-SHA-256 of the secret under the pepper, hex: what the database stores instead of the secret. */
export function secretHmac(pepper: Buffer, secret: string): string {
  invariant(pepper.length >= pepperBytesMin, `the key pepper must be at least ${pepperBytesMin} bytes`);
  return createHmac('sha256', pepper).update(secret).digest('hex');
}

/** Constant-time check of a presented secret against the stored HMAC (both 32 bytes). */
export function secretMatches(pepper: Buffer, secret: string, storedHmac: Buffer): boolean {
  const presented = createHmac('sha256', pepper).update(secret).digest();
  return presented.length === storedHmac.length && timingSafeEqual(presented, storedHmac);
}
