import { ForbiddenError } from '@tokenwise/core';
import type { KeyScope } from './types';

/** What a creating key allows: a key derived from it never gets more. */
export interface CreatorBounds {
  id: string;
  scopes: readonly KeyScope[];
  /** null: every model. */
  allowedModels: readonly string[] | null;
  /** null: unlimited. */
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** null: never expires. */
  expiresAt: Date | null;
}

/**
 * What the new key asks for. `undefined` (left out) inherits the creator's bound; an explicit
 * `null` asks for "every model", "unlimited" or "never expires" and is refused under a creator
 * that has a bound there, so nobody gets a wider key than they meant to by leaving a field out.
 */
export interface DerivedKeyRequest {
  scopes: readonly KeyScope[];
  allowedModels?: readonly string[] | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  expiresAt?: Date | null;
}

export interface DerivedKeyFields {
  scopes: KeyScope[];
  allowedModels: string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  expiresAt: Date | null;
}

export interface DerivationOptions {
  /** How the caller names the expiry field in its own input (the API takes `expiresInDays`). */
  expiryField?: string;
  now: Date;
}

const dayMs = 86_400_000;

function refuse(field: string, message: string, creatorBound: unknown): ForbiddenError {
  return new ForbiddenError(`${field}: ${message}`, { field, creatorBound });
}

function boundScopes(creator: CreatorBounds, scopes: readonly KeyScope[]): KeyScope[] {
  const extra = scopes.filter((scope) => !creator.scopes.includes(scope));
  if (extra.length > 0) {
    throw refuse(
      'scopes',
      `your key ${creator.id} has scopes [${creator.scopes.join(', ')}], and a key it creates may have only some of them: leave out ${extra.join(', ')}, or ask an admin.`,
      creator.scopes,
    );
  }
  return [...new Set(scopes)];
}

function boundModels(creator: CreatorBounds, models: readonly string[] | null | undefined): string[] | null {
  if (models === undefined) return creator.allowedModels === null ? null : [...creator.allowedModels];
  if (creator.allowedModels === null) return models === null ? null : [...models];
  const allowed = creator.allowedModels;
  if (models === null) {
    throw refuse(
      'allowedModels',
      `null means every model, but your key ${creator.id} may use only [${allowed.join(', ')}]: leave allowedModels out to get that list, or list some of those models.`,
      allowed,
    );
  }
  const extra = models.filter((model) => !allowed.includes(model));
  if (extra.length > 0)
    throw refuse(
      'allowedModels',
      `your key ${creator.id} may use only [${allowed.join(', ')}]; leave out ${extra.join(', ')}, or ask an admin.`,
      allowed,
    );
  return [...models];
}

function boundLimit(
  field: 'rpmLimit' | 'tpmLimit',
  creator: CreatorBounds,
  limit: number | null | undefined,
): number | null {
  const bound = creator[field];
  if (limit === undefined || bound === null) return limit ?? bound;
  if (limit === null)
    throw refuse(
      field,
      `null means unlimited, but your key ${creator.id} is limited to ${bound}: leave ${field} out to get ${bound}, or ask for at most ${bound}.`,
      bound,
    );
  if (limit > bound)
    throw refuse(
      field,
      `${limit} is over your key ${creator.id}'s limit of ${bound}: ask for at most ${bound}.`,
      bound,
    );
  return limit;
}

function boundExpiry(
  creator: CreatorBounds,
  expiresAt: Date | null | undefined,
  options: DerivationOptions,
): Date | null {
  const bound = creator.expiresAt;
  if (expiresAt === undefined || bound === null) return expiresAt ?? bound;
  const field = options.expiryField ?? 'expiresAt';
  const daysLeft = Math.floor((bound.getTime() - options.now.getTime()) / dayMs);
  const hint = `leave ${field} out to expire with it${daysLeft >= 1 ? `, or ask for at most ${daysLeft} day${daysLeft === 1 ? '' : 's'}` : ''}`;
  if (expiresAt === null)
    throw refuse(
      field,
      `null means never, but your key ${creator.id} expires at ${bound.toISOString()}: ${hint}.`,
      bound.toISOString(),
    );
  if (expiresAt.getTime() > bound.getTime()) {
    throw refuse(
      field,
      `the new key would expire at ${expiresAt.toISOString()}, after your key ${creator.id} (${bound.toISOString()}): ${hint}.`,
      bound.toISOString(),
    );
  }
  return expiresAt;
}

/**
 * The fields of a key derived from `creator`: each a subset of, or at most, the creator's. Throws
 * ForbiddenError naming the field and the creator's bound (also in `details`) when asked for more.
 */
export function deriveKeyFields(
  creator: CreatorBounds,
  request: DerivedKeyRequest,
  options: DerivationOptions,
): DerivedKeyFields {
  return {
    scopes: boundScopes(creator, request.scopes),
    allowedModels: boundModels(creator, request.allowedModels),
    rpmLimit: boundLimit('rpmLimit', creator, request.rpmLimit),
    tpmLimit: boundLimit('tpmLimit', creator, request.tpmLimit),
    expiresAt: boundExpiry(creator, request.expiresAt, options),
  };
}
