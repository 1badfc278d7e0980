import { gramsToMicrograms } from '@tokenwise/core';
import { describeEachBackend } from '@tokenwise/db/testing';
import { orgs, settlements, usageRecords } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import type { CarbonReportRow } from './carbon-report';
import { seedApiFixture } from './test-fixtures';

type Fixture = Awaited<ReturnType<typeof seedApiFixture>>;
type UsageRow = typeof usageRecords.$inferInsert & { score?: number };

/** A small seeded generator (mulberry32): the same rows every run, so a failure reproduces. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max: number) => Math.floor(next() * max),
    big: (max: number) => BigInt(Math.floor(next() * max)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

// December 2026 in Tokyo (UTC+9): 2026-11-30T15:00Z to 2026-12-31T15:00Z.
const tokyoStart = Date.parse('2026-11-30T15:00:00Z');
const tokyoEnd = Date.parse('2026-12-31T15:00:00Z');
const tokyoDay = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10);
const hour = 3_600_000;

function usageRows(f: Fixture): UsageRow[] {
  const rnd = random(14);
  const people = [...Object.values(f.users), null];
  // Instants on both sides of each edge of the range and of Tokyo's midnights, then spread around.
  const edges = [tokyoStart - 1, tokyoStart, tokyoEnd - 1, tokyoEnd, tokyoStart + 86_400_000 - 1];
  const rows: UsageRow[] = [];
  for (let index = 0; index < 240; index++) {
    const person = rnd.pick(people);
    const at = index < edges.length ? (edges[index] ?? 0) : tokyoStart - 3 * 24 * hour + rnd.int(37 * 24 * hour);
    const operational = rnd.big(5_000_000_000);
    const embodied = rnd.big(800_000_000);
    const scored = rnd.int(3);
    rows.push({
      requestId: `sum-${index}`,
      orgId: f.org.id,
      userId: person?.id ?? null,
      teamId: person?.teamId ?? null,
      keyId: 'aaaaaaaaaaaa',
      model: rnd.pick(['llama-8b', 'mixtral-8x7b', '=HYPERLINK("x")']),
      cluster: rnd.pick(['tokyo-gpu', 'oslo-gpu']),
      replica: 'r0',
      tier: 'normal',
      promptTokens: rnd.int(20_000),
      completionTokens: rnd.int(4_000),
      currency: 'innovation',
      cost: 1n,
      priceListVersion: 1,
      latencyMs: 10,
      co2eMicrograms: operational + embodied,
      operationalCo2eMicrograms: operational,
      embodiedCo2eMicrograms: embodied,
      energyMicroWh: rnd.big(900_000_000),
      system: person === null,
      outcome: 'completed',
      createdAt: new Date(at),
      ...(scored === 0 ? {} : { score: scored === 1 ? 0 : rnd.int(1001) / 1000 }),
    });
  }
  return rows;
}

/** Another org's usage inside the range: no report of the first org may count it. */
function otherOrgRows(f: Fixture): UsageRow[] {
  return [0, 1, 2].map((index) => ({
    ...usageRows(f)[10 + index]!,
    requestId: `other-${index}`,
    orgId: f.otherAdmin.orgId,
    userId: f.otherAdmin.id,
    teamId: null,
    system: false,
    createdAt: new Date(tokyoStart + index * hour),
  }));
}

const keyOf: Record<string, (row: UsageRow) => string> = {
  team: (row) => (row.userId === null ? 'system' : (row.teamId ?? 'no-team')),
  user: (row) => row.userId ?? 'system',
  model: (row) => row.model,
  cluster: (row) => row.cluster,
  day: (row) => tokyoDay((row.createdAt as Date).getTime()),
};

interface Expected {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  energyMicroWh: bigint;
  operational: bigint;
  embodied: bigint;
  total: bigint;
  scoredTotal: bigint;
  scoreSum: number;
  scoredCount: number;
}

function expectedGroups(rows: UsageRow[], key: (row: UsageRow) => string): Map<string, Expected> {
  const groups = new Map<string, Expected>();
  for (const row of rows) {
    const group = groups.get(key(row)) ?? {
      requests: 0,
      promptTokens: 0,
      completionTokens: 0,
      energyMicroWh: 0n,
      operational: 0n,
      embodied: 0n,
      total: 0n,
      scoredTotal: 0n,
      scoreSum: 0,
      scoredCount: 0,
    };
    group.requests += 1;
    group.promptTokens += row.promptTokens;
    group.completionTokens += row.completionTokens;
    group.energyMicroWh += row.energyMicroWh;
    group.operational += row.operationalCo2eMicrograms ?? 0n;
    group.embodied += row.embodiedCo2eMicrograms ?? 0n;
    group.total += row.co2eMicrograms;
    if (row.score !== undefined) {
      group.scoredTotal += row.co2eMicrograms;
      group.scoreSum += row.score;
      group.scoredCount += 1;
    }
    groups.set(key(row), group);
  }
  return groups;
}

const micrograms = (grams: number) => gramsToMicrograms(grams);
const microWh = (kwh: number) => BigInt(Math.round(kwh * 1e9));

describeEachBackend('carbon.report sums equal the usage rows exactly', (database) => {
  let f: Fixture;
  let rows: UsageRow[];
  let inRange: UsageRow[];
  beforeAll(async () => {
    f = await seedApiFixture(database());
    await database().db.update(orgs).set({ timeZone: 'Asia/Tokyo' }).where(eq(orgs.id, f.org.id));
    rows = usageRows(f);
    const all = [...rows, ...otherOrgRows(f)];
    await database().db.insert(usageRecords).values(all);
    await database()
      .db.insert(settlements)
      .values(
        all
          .filter((row) => row.score !== undefined)
          .map((row) => ({
            requestId: row.requestId,
            score: row.score,
            confidence: 1,
            refund: 0n,
            refundCurrency: 'innovation',
            reward: 0n,
            results: [],
            reason: 'test',
          })),
      );
    inRange = rows.filter((row) => {
      const at = (row.createdAt as Date).getTime();
      return at >= tokyoStart && at < tokyoEnd;
    });
  });

  it.each(Object.keys(keyOf))('by %s: every group, and so the whole, equals its usage rows', async (groupBy) => {
    const esg = await f.as(f.users.esg);
    const report: CarbonReportRow[] = await esg.carbon.report({
      from: '2026-12-01',
      to: '2027-01-01',
      groupBy: groupBy as 'team',
    });
    const expected = expectedGroups(inRange, keyOf[groupBy]!);
    expect(report.map((row) => row.key).sort()).toEqual([...expected.keys()].sort());
    for (const row of report) {
      const group = expected.get(row.key)!;
      expect({
        requests: row.requests,
        promptTokens: row.promptTokens,
        completionTokens: row.completionTokens,
        energyMicroWh: microWh(row.energyKwh),
        operational: micrograms(row.operationalGrams),
        embodied: micrograms(row.embodiedGrams),
        total: micrograms(row.totalGrams),
      }).toEqual({
        requests: group.requests,
        promptTokens: group.promptTokens,
        completionTokens: group.completionTokens,
        energyMicroWh: group.energyMicroWh,
        operational: group.operational,
        embodied: group.embodied,
        total: group.total,
      });
      const tokens = group.promptTokens + group.completionTokens;
      expect(row.gramsPer1kTokens).toBeCloseTo((Number(group.total) / 1e6) * (1000 / tokens), 5);
      if (group.scoreSum > 0)
        expect(row.gramsPerValue).toBeCloseTo(Number(group.scoredTotal) / 1e6 / group.scoreSum, 5);
      else expect(row.gramsPerValue).toBeNull();
    }
    const sum = (pick: (row: CarbonReportRow) => bigint) => report.reduce((total, row) => total + pick(row), 0n);
    expect(sum((row) => micrograms(row.totalGrams))).toBe(
      inRange.reduce((total, row) => total + row.co2eMicrograms, 0n),
    );
    expect(sum((row) => BigInt(row.requests))).toBe(BigInt(inRange.length));
  });

  it('labels people and teams for a reader, and system usage as system', async () => {
    const admin = await f.as(f.users.admin);
    const byTeam = await admin.carbon.report({ from: '2026-12-01', to: '2027-01-01', groupBy: 'team' });
    expect(Object.fromEntries(byTeam.map((row) => [row.key, row.label]))).toEqual({
      [f.teams.eng.id]: 'eng',
      [f.teams.ops.id]: 'ops',
      'no-team': 'no-team',
      system: 'system',
    });
    const byUser = await admin.carbon.report({ from: '2026-12-01', to: '2027-01-01', groupBy: 'user' });
    expect(byUser.find((row) => row.key === f.users.esg.id)?.label).toBe('esther@acme.test');
    const byDay = await admin.carbon.report({ from: '2026-12-01', to: '2027-01-01', groupBy: 'day' });
    expect(byDay[0]?.key).toBe('2026-12-01');
    expect(byDay.map((row) => row.key)).toEqual([...byDay.map((row) => row.key)].sort());
    expect(byDay.at(-1)?.key).toBe('2026-12-31');
  });
});
