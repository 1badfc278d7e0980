import { amountMax, amountMin, ConflictError, ValidationError } from '@tokenwise/core';
import { describeEachBackend, openTestDatabase } from '@tokenwise/db/testing';
import { eq, sql } from 'drizzle-orm';
import { pgTable, serial } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './client';
import { executeRows } from './execute-rows';
import { migrationState } from './migration-state';
import { pgErrorOf } from './pg-error';
import { listAuditForEntity } from './queries/audit';
import { createOrg, findOrgBySlug } from './queries/orgs';
import { amount, auditLog, codecJsonb } from './schema/index';

const amountProbe = pgTable('amount_probe', {
  id: serial().primaryKey(),
  value: amount().notNull(),
  doc: codecJsonb().notNull(),
});

describeEachBackend('database layer', (db, backend) => {
  it('applies every migration, and applying again changes nothing', async () => {
    const before = await migrationState(db().db);
    expect(before.pending).toEqual([]);
    expect(before.applied).toBe(before.available.length);
    await db().migrate();
    expect(await migrationState(db().db)).toEqual(before);
  });

  it('creates an org with its audit row, and finds it by slug', async () => {
    const org = await createOrg(db().db, {
      actor: 'system:test',
      input: { slug: `acme-${backend}`, name: 'Acme', timeZone: 'Europe/Berlin' },
    });
    expect(await findOrgBySlug(db().db, { slug: `acme-${backend}` })).toEqual(org);
    const audit = await listAuditForEntity(db().db, { entityType: 'org', entityId: org.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'org.create',
      actor: 'system:test',
      before: null,
      after: { slug: `acme-${backend}`, timeZone: 'Europe/Berlin' },
    });
    expect(await findOrgBySlug(db().db, { slug: 'nobody-here' })).toBeUndefined();
  });

  it('refuses an unknown time zone and a bad slug, naming the field and the allowed form', async () => {
    await expect(
      createOrg(db().db, { actor: 'system:test', input: { slug: 'tz-bad', name: 'X', timeZone: 'Mars/Olympus' } }),
    ).rejects.toThrow(/timeZone: must be an IANA time zone/);
    await expect(createOrg(db().db, { actor: 'system:test', input: { slug: 'Bad Slug', name: 'X' } })).rejects.toThrow(
      ValidationError,
    );
    expect(await findOrgBySlug(db().db, { slug: 'tz-bad' })).toBeUndefined();
  });

  it('rolls the audit row back with the change when the change fails', async () => {
    const slug = `dup-${backend}`;
    await createOrg(db().db, { actor: 'system:test', input: { slug, name: 'First' } });
    await expect(createOrg(db().db, { actor: 'system:test', input: { slug, name: 'Second' } })).rejects.toThrow();
    const rows = await db()
      .db.select({ id: auditLog.id })
      .from(auditLog)
      .where(sql`${auditLog.after}->>'slug' = ${slug}`);
    expect(rows).toHaveLength(1);
  });

  it('keeps the audit log append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const org = await createOrg(db().db, {
      actor: 'system:test',
      input: { slug: `audited-${backend}`, name: 'Audited' },
    });
    const refusal = async (query: Promise<unknown>) =>
      pgErrorOf(
        await query.then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
    expect(
      await refusal(db().db.update(auditLog).set({ actor: 'someone-else' }).where(eq(auditLog.entityId, org.id))),
    ).toMatchObject({
      code: '42501',
      message: 'table audit_log is append-only: UPDATE is not allowed',
    });
    expect(await refusal(db().db.delete(auditLog).where(eq(auditLog.entityId, org.id)))).toMatchObject({
      message: expect.stringMatching(/DELETE is not allowed/),
    });
    expect(await refusal(db().db.execute(sql`truncate audit_log cascade`))).toMatchObject({
      message: expect.stringMatching(/TRUNCATE is not allowed/),
    });
    expect(await listAuditForEntity(db().db, { entityType: 'org', entityId: org.id })).toHaveLength(1);
  });

  it('round-trips every amount through a bigint column and through codec jsonb, extremes included', async () => {
    await db().db.execute(
      sql`create table if not exists amount_probe (id serial primary key, value bigint not null, doc jsonb not null)`,
    );
    const values = fc
      .sample(fc.bigInt({ min: amountMin, max: amountMax }), 200)
      .concat([amountMin, amountMax, 0n, -1n]);
    const docs = values.map((value) => ({ value, nested: [{ fee: value }], note: 'x' }));
    const inserted = await db()
      .db.insert(amountProbe)
      .values(values.map((value, index) => ({ value, doc: docs[index] })))
      .returning({ id: amountProbe.id });
    const rows = await db().db.select().from(amountProbe).orderBy(amountProbe.id);
    expect(rows.map((row) => row.value)).toEqual(values);
    expect(rows.map((row) => row.doc)).toEqual(docs);
    expect(inserted).toHaveLength(values.length);
  });
});

describe('embedded PGlite data dir', () => {
  it('is held by one process at a time and keeps its data across reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-pglite-'));
    try {
      const first = await openDatabase({ dataDir: join(dir, 'pg') });
      await first.migrate();
      await createOrg(first.db, { actor: 'system:test', input: { slug: 'kept', name: 'Kept' } });
      // A second opener in this process is still refused: the lock is per data dir, not per pid.
      const lockPath = join(dir, 'pg.lock');
      const { writeFile } = await import('node:fs/promises');
      await first.close();
      await writeFile(lockPath, `${process.ppid}\n`);
      await expect(openDatabase({ dataDir: join(dir, 'pg') })).rejects.toThrow(ConflictError);
      await rm(lockPath);
      const second = await openDatabase({ dataDir: join(dir, 'pg') });
      expect(await findOrgBySlug(second.db, { slug: 'kept' })).toMatchObject({ name: 'Kept' });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations against a real server', () => {
  it('runs on a server with fsync on, as in production', async () => {
    const database = await openTestDatabase('postgres');
    try {
      const [row] = await executeRows<{ fsync: string; server_version_num: string }>(
        database.db,
        sql`select current_setting('fsync') as fsync, current_setting('server_version_num') as server_version_num`,
      );
      expect(row?.fsync).toBe('on');
      expect(Number(row?.server_version_num)).toBeGreaterThanOrEqual(150000);
    } finally {
      await database.close();
    }
  });

  it('are safe when two processes start at once', async () => {
    const a = await openTestDatabase('postgres');
    try {
      const url = (a as unknown as { location: string }).location;
      expect(url).toMatch(/^postgres:/);
      const b = await openDatabase({ url });
      await Promise.all([a.migrate(), b.migrate(), b.migrate()]);
      expect((await migrationState(b.db)).pending).toEqual([]);
      await b.close();
    } finally {
      await a.close();
    }
  });
});
