import {
  ConflictError,
  ForbiddenError,
  IdempotencyConflictError,
  InsufficientFundsError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
  type DomainError,
} from '@tokenwise/core';
import { createApiKey } from '@tokenwise/control';
import { type Ledger } from '@tokenwise/ledger';
import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client';
import { invalidFields, toTrpcError } from './errors';
import { startApiServer, type RunningApiServer } from './server';
import { openApiFixture, type ApiFixture } from './test-fixtures';

const wrap = (cause: DomainError) => toTrpcError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause }));

describe('domain error mapping', () => {
  it.each([
    [new ValidationError('bad', { issues: ['limit: too big'] }), 'BAD_REQUEST'],
    [new NotFoundError('gone'), 'NOT_FOUND'],
    [new ForbiddenError('no'), 'FORBIDDEN'],
    [new UnauthenticatedError('who'), 'UNAUTHORIZED'],
    [new InsufficientFundsError('poor'), 'PRECONDITION_FAILED'],
    [new ConflictError('taken'), 'CONFLICT'],
    [new IdempotencyConflictError('reused'), 'CONFLICT'],
  ] as const)('%s becomes %s with its message', (cause, code) => {
    const mapped = wrap(cause);
    expect(mapped.code).toBe(code);
    expect(mapped.message).toBe(cause.message);
  });

  it('a validation error names its fields', () => {
    expect(
      invalidFields(new ValidationError('Invalid policy', { issues: ['refunds.0.minScore: too big', 'reward: bad'] })),
    ).toEqual(['refunds.0.minScore', 'reward']);
  });
});

describe('unknown errors over HTTP', () => {
  let f: ApiFixture;
  let server: RunningApiServer;
  beforeAll(async () => {
    f = await openApiFixture();
    const broken: Ledger = {
      ...f.ledger,
      balance: () => Promise.reject(new Error('connection to 10.0.0.7 refused, password hunter2')),
    };
    server = await startApiServer({ db: f.db, ledger: broken, keyPepper: f.keyPepper });
  });
  afterAll(async () => {
    await server?.close();
    await f?.close();
  });

  it('are INTERNAL_SERVER_ERROR without their message or a stack outside development', async () => {
    await f.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: f.users.employee.id,
      orgId: f.org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'e',
      scopes: ['api'],
      actor: 'test',
    });
    const error = (await createApiClient({ url: server.url, apiKey: secret })
      .me.balances.query()
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 });
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.data)).not.toContain('stack');
  });
});
