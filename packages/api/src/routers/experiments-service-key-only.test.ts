import { createKeyStore, experimentsWebhookSecret } from '@tokenwise/control';
import { listAuditForEntity } from '@tokenwise/db';
import { experimentAssignments, experimentResults, outbox } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../context';
import { createCaller } from '../router';
import { insertUsage, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const summary = (count: number, sum: number) => ({ kind: 'mean' as const, count, sum, sumSquares: sum * sum });
const result = (resultId: string, overrides: Record<string, unknown> = {}) => ({
  resultId,
  experimentKey: 'checkout-copy',
  metricId: 'conversion',
  higherIsBetter: true,
  startedAt: '2026-10-01T00:00:00Z',
  endedAt: '2026-12-01T00:00:00Z',
  variations: [
    { key: 'control', summary: summary(100, 50) },
    { key: 'treatment', summary: summary(100, 70) },
  ],
  assignments: { control: [] as string[], treatment: [] as string[] },
  ...overrides,
});

async function serviceCaller() {
  const admin = await f.as(f.users.admin);
  const created = await admin.admin.createServiceKey({ name: 'growthbook' });
  const caller = createCaller(
    await createContextInner({
      db: f.db,
      ledger: f.ledger,
      keyPepper: f.keyPepper,
      service: { keyId: created.key.id, orgId: f.org.id },
    }),
  );
  return { created, caller };
}

describe('experiments.* accept a service key with the experiments scope, and nothing else', () => {
  it('an admin creates the key: no user behind it, scope experiments alone, secrets shown once, webhook secret derived', async () => {
    const { created } = await serviceCaller();
    expect(created.key.scopes).toEqual(['experiments']);
    expect(created.key.systemOwner).toBe('experiments');
    expect(created.secret).toMatch(new RegExp(`^tw_${created.key.id}_`));
    expect(created.webhookSecret).toBe(experimentsWebhookSecret(f.keyPepper, created.key.id));
    const audit = await listAuditForEntity(f.db, { entityType: 'api_key', entityId: created.key.id });
    expect(audit[0]?.actor).toBe(`user:${f.users.admin.id}`);
  });

  it('only an admin creates one, and only with the experiments scope', async () => {
    const lead = await f.as(f.users.lead);
    await expect(lead.admin.createServiceKey({ name: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const admin = await f.as(f.users.admin);
    await expect(
      admin.admin.createServiceKey({ name: 'x', scopes: ['api'] as unknown as ['experiments'] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it("an employee's own key and an admin's api key are FORBIDDEN with a message naming the service key", async () => {
    for (const user of [f.users.employee, f.users.admin]) {
      const { caller } = await f.withKey(user);
      await expect(caller.experiments.submitResults(result('r-person'))).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('service key with the experiments scope'),
      });
      await expect(caller.experiments.results()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect((await f.anonymous()).experiments.results()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('the service key authenticates as a service and is FORBIDDEN everywhere else', async () => {
    const { created } = await serviceCaller();
    const keyStore = createKeyStore({ db: f.db, pepper: f.keyPepper });
    const principal = await keyStore.authenticate(`Bearer ${created.secret}`);
    keyStore.close();
    expect(principal.userId).toBeNull();
    expect(principal.scopes).toEqual(['experiments']);
    const caller = createCaller(
      await createContextInner({
        db: f.db,
        ledger: f.ledger,
        keyPepper: f.keyPepper,
        service: { keyId: created.key.id, orgId: f.org.id },
      }),
    );
    await expect(caller.me.profile()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('experiments.* only'),
    });
    await expect(caller.keys.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(caller.admin.createServiceKey({ name: 'escalate' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('experiments.submitResults', () => {
  it('stores the result, its assignments resolved to the key org only, and one outbox row; counts tagged requests', async () => {
    const { caller } = await serviceCaller();
    await insertUsage(f.db, {
      user: f.users.employee,
      experiment: { experimentKey: 'checkout-copy', variantKey: 'treatment' },
    });
    await insertUsage(f.db, {
      user: f.otherAdmin,
      experiment: { experimentKey: 'checkout-copy', variantKey: 'treatment' },
    });
    const outcome = await caller.experiments.submitResults(
      result('r-1', {
        assignments: {
          control: [f.users.colleague.id],
          treatment: ['EMMA@acme.test', f.otherAdmin.id, 'gina@globex.test', 'nobody@acme.test'],
        },
      }),
    );
    expect(outcome).toEqual({
      resultId: 'r-1',
      stored: 'new',
      taggedRequests: 1,
      assignedUsers: 2,
      unmatchedAssignments: 3,
    });
    const [row] = await f.db.select().from(experimentResults).where(eq(experimentResults.resultId, 'r-1'));
    expect(row?.submitterUserId).toBe(f.users.admin.id);
    const assigned = await f.db
      .select({ userId: experimentAssignments.userId, variantKey: experimentAssignments.variantKey })
      .from(experimentAssignments)
      .where(eq(experimentAssignments.resultRowId, row?.id ?? ''));
    expect(assigned).toHaveLength(2);
    expect(assigned).toContainEqual({ userId: f.users.employee.id, variantKey: 'treatment' });
    expect(
      await f.db
        .select()
        .from(outbox)
        .where(eq(outbox.requestId, row?.id ?? '')),
    ).toHaveLength(1);
    const listed = await caller.experiments.results({ experimentKey: 'checkout-copy' });
    expect(listed.map((item) => item.resultId)).toContain('r-1');
  });

  it('redelivery with the same content is a duplicate that wakes nothing; other content is CONFLICT', async () => {
    const { caller } = await serviceCaller();
    const first = await caller.experiments.submitResults(
      result('r-2', { assignments: { control: [f.users.colleague.id, f.users.employee.id] } }),
    );
    const again = await caller.experiments.submitResults(
      result('r-2', { assignments: { control: [f.users.employee.id, f.users.colleague.id] } }),
    );
    expect(again).toEqual({ ...first, stored: 'duplicate' });
    const [row] = await f.db.select().from(experimentResults).where(eq(experimentResults.resultId, 'r-2'));
    expect(
      await f.db
        .select()
        .from(outbox)
        .where(eq(outbox.requestId, row?.id ?? '')),
    ).toHaveLength(1);
    await expect(caller.experiments.submitResults(result('r-2', { metricId: 'revenue' }))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('already submitted with other content'),
    });
  });

  it('another org never sees the results', async () => {
    const { caller } = await serviceCaller();
    await caller.experiments.submitResults(result('r-3'));
    const otherAdmin = await f.as(f.otherAdmin);
    const other = await otherAdmin.admin.createServiceKey({ name: 'globex gb' });
    const otherCaller = createCaller(
      await createContextInner({
        db: f.db,
        ledger: f.ledger,
        keyPepper: f.keyPepper,
        service: { keyId: other.key.id, orgId: f.otherAdmin.orgId },
      }),
    );
    expect(await otherCaller.experiments.results()).toEqual([]);
    // The same result id in another org is a different result, not a conflict.
    expect((await otherCaller.experiments.submitResults(result('r-3', { metricId: 'other' }))).stored).toBe('new');
  });

  it.each([
    ['one variation', { variations: [{ key: 'control', summary: summary(1, 1) }] }],
    [
      'nine variations',
      { variations: Array.from({ length: 9 }, (_, i) => ({ key: `v${i}`, summary: summary(1, 1) })) },
    ],
    [
      'repeated variation keys',
      {
        variations: [
          { key: 'a', summary: summary(1, 1) },
          { key: 'a', summary: summary(1, 1) },
        ],
      },
    ],
    [
      'mixed metric kinds',
      {
        variations: [
          { key: 'a', summary: summary(1, 1) },
          { key: 'b', summary: { kind: 'binomial', count: 2, sum: 1 } },
        ],
      },
    ],
    [
      'a negative variance',
      {
        variations: [
          { key: 'control', summary: { kind: 'mean', count: 10, sum: 10, sumSquares: 1 } },
          { key: 'b', summary: summary(1, 1) },
        ],
      },
    ],
    ['endedAt before startedAt', { endedAt: '2026-09-01T00:00:00Z' }],
    ['a time without zone', { startedAt: '2026-10-01T00:00:00' }],
    ['a bad result id', { resultId: '../etc' }],
    ['an unknown field', { orgId: '00000000-0000-0000-0000-000000000000' }],
    ['assignments to an unknown variant', { assignments: { nope: [] } }],
    ['an assignee neither uuid nor email', { assignments: { control: ['robert; drop table'] } }],
    ['too many assignees', { assignments: { control: Array.from({ length: 100_001 }, (_, i) => `u${i}@x.test`) } }],
  ])('refuses %s as BAD_REQUEST', async (_what, overrides) => {
    const { caller } = await serviceCaller();
    await expect(caller.experiments.submitResults(result('r-bad', overrides) as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
