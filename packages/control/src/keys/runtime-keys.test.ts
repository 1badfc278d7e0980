import { apiKeys } from '@tokenwise/db/schema';
import { describeEachBackend } from '@tokenwise/db/testing';
import { eq } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { createKeyStore } from './key-store';
import { runtimeKeyRenewSeconds, runtimeKeyTtlSeconds } from './limits';
import { createRuntimeKeys } from './runtime-keys';
import { orgWithUser, testPepper } from './test-fixtures';

describeEachBackend('keys the server mints for its own calls', (database) => {
  let fixture: Awaited<ReturnType<typeof orgWithUser>>;
  beforeAll(async () => {
    fixture = await orgWithUser(database().db);
  });
  const keyIdOf = (secret: string) => secret.split('_')[1] ?? '';

  it('mints one judge system key per org and one key per user, reused until shortly before they expire, marked as minted', async () => {
    let now = new Date();
    const keys = createRuntimeKeys({ db: database().db, pepper: testPepper, clock: () => now });
    const judge = { kind: 'judge', orgId: fixture.org.id } as const;
    const lead = { kind: 'user', orgId: fixture.org.id, userId: fixture.user.id } as const;
    const [judgeKey, again, leadKey] = await Promise.all([keys.keyFor(judge), keys.keyFor(judge), keys.keyFor(lead)]);
    expect(again).toBe(judgeKey);
    const rows = await database().db.select().from(apiKeys).where(eq(apiKeys.orgId, fixture.org.id));
    const judgeRow = rows.find((row) => row.id === keyIdOf(judgeKey));
    const leadRow = rows.find((row) => row.id === keyIdOf(leadKey));
    expect(judgeRow).toMatchObject({
      userId: null,
      systemOwner: 'judge',
      mintedFor: 'judge',
      scopes: ['inference'],
      expiresAt: new Date(now.getTime() + runtimeKeyTtlSeconds * 1000),
    });
    expect(leadRow).toMatchObject({
      userId: fixture.user.id,
      systemOwner: null,
      mintedFor: 'plugin_dry_run',
      scopes: ['inference'],
    });
    const store = createKeyStore({ db: database().db, pepper: testPepper });
    try {
      await expect(store.authenticate(`Bearer ${judgeKey}`)).resolves.toMatchObject({
        orgId: fixture.org.id,
        systemOwner: 'judge',
        userId: null,
      });
    } finally {
      store.close();
    }
    now = new Date(now.getTime() + (runtimeKeyTtlSeconds - runtimeKeyRenewSeconds) * 1000 - 1);
    expect(await keys.keyFor(judge)).toBe(judgeKey);
    now = new Date(now.getTime() + 2);
    expect(await keys.keyFor(judge)).not.toBe(judgeKey);
    keys.forget(lead);
    expect(await keys.keyFor(lead)).not.toBe(leadKey);
  });
});
