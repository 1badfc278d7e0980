import { carbonReportCsv } from '@tokenwise/api';
import { findUserByEmail } from '@tokenwise/db';
import { usageRecords } from '@tokenwise/db/schema';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { runMain } from '../test-kit';
import { adminCommands, type CommandOptions } from './admin/index';

describe('tokenwise carbon report: the org-wide emission report an ESG officer files', () => {
  let dir: string;
  let services: Services | undefined;
  const run = async (options: CommandOptions) => adminCommands['carbon report']!(services!, options, 'cli:operator');
  const december = { org: 'acme', from: '2026-12-01', to: '2027-01-01' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-carbon-report-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    const admin = adminCommands;
    await admin['org create']!(services, { slug: 'acme', name: 'Acme', 'time-zone': 'Asia/Tokyo' }, 'cli:operator');
    await admin['team create']!(services, { org: 'acme', slug: 'eng', name: 'Engineering' }, 'cli:operator');
    await admin['user create']!(
      services,
      { org: 'acme', email: 'alice@acme.test', name: 'Alice', team: 'eng' },
      'cli:operator',
    );
    const db = services.database.db;
    const [org] = await db.query.orgs.findMany({ where: (orgs, { eq }) => eq(orgs.slug, 'acme') });
    const alice = await findUserByEmail(db, { orgId: org!.id, email: 'alice@acme.test' });
    const usage = (requestId: string, createdAt: string, userId: string | null) => ({
      requestId,
      orgId: org!.id,
      userId,
      teamId: userId === null ? null : (alice?.teamId ?? null),
      keyId: 'aaaaaaaaaaaa',
      model: 'llama-8b',
      cluster: 'local',
      replica: 'r0',
      tier: 'normal',
      promptTokens: 400,
      completionTokens: 100,
      currency: 'innovation',
      cost: 1n,
      priceListVersion: 1,
      latencyMs: 10,
      co2eMicrograms: 1_250_000n,
      operationalCo2eMicrograms: 1_000_000n,
      embodiedCo2eMicrograms: 250_000n,
      energyMicroWh: 2_500_000n,
      system: userId === null,
      outcome: 'completed',
      createdAt: new Date(createdAt),
    });
    await db.insert(usageRecords).values([
      // 1 December 00:30 in Tokyo is still 30 November in UTC: it is in December's report.
      usage('r-1', '2026-11-30T15:30:00Z', alice!.id),
      usage('r-2', '2026-12-10T00:00:00Z', null),
      // 1 January 00:00 in Tokyo: the first instant after the report.
      usage('r-3', '2026-12-31T15:00:00Z', alice!.id),
    ]);
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a table by default, the CSV with --csv, each covering the whole org in its time zone', async () => {
    const table = await run({ ...december, 'group-by': 'day' });
    expect(table.text).toBe(
      [
        'Emissions of org acme by day, 2026-12-01 to 2027-01-01 (exclusive, Asia/Tokyo):',
        '  2026-12-01  1 requests  400 in / 100 out  0.0025 kWh  1 + 0.25 = 1.25 gCO2e  2.5 g/1k tokens  -',
        '  2026-12-10  1 requests  400 in / 100 out  0.0025 kWh  1 + 0.25 = 1.25 gCO2e  2.5 g/1k tokens  -',
      ].join('\n'),
    );
    const csv = await run({ ...december, 'group-by': 'user', csv: true });
    expect(`${csv.text}\n`).toBe(carbonReportCsv(csv.data as Parameters<typeof carbonReportCsv>[0]));
    expect(`${csv.text}\n`.split('\r\n').slice(1)).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36},alice@acme\.test,1,400,100,0\.0025,1,0\.25,1\.25,2\.5,$/),
      'system,system,1,400,100,0.0025,1,0.25,1.25,2.5,',
      '',
    ]);
  });

  it('refuses a bad grouping or range, saying what to give', async () => {
    await expect(run({ ...december, 'group-by': 'week' })).rejects.toThrow(
      /--group-by must be one of team, user, model, cluster, day/,
    );
    await expect(run({ ...december, to: '2026-12-01', 'group-by': 'day' })).rejects.toThrow(
      /to \(2026-12-01\) must be after from \(2026-12-01\)/,
    );
  });

  it('`tokenwise carbon report --csv` writes the CSV to stdout, byte for byte', async () => {
    const expected = await run({ ...december, 'group-by': 'team', csv: true });
    await services?.close();
    services = undefined;
    const previous = process.env.TOKENWISE_DATA_DIR;
    process.env.TOKENWISE_DATA_DIR = dir;
    try {
      const result = await runMain([
        'carbon',
        'report',
        '--org',
        'acme',
        '--from',
        '2026-12-01',
        '--to',
        '2027-01-01',
        '--group-by',
        'team',
        '--csv',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe(`${expected.text}\n`);
      expect(result.stdout).toMatch(/^key,label,requests,[^\n]*\r\n[0-9a-f-]{36},eng,1,.*\r\nsystem,system,1,.*\r\n$/);
    } finally {
      if (previous === undefined) delete process.env.TOKENWISE_DATA_DIR;
      else process.env.TOKENWISE_DATA_DIR = previous;
    }
  });
});
