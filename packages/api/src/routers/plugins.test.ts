import { listAuditForEntity, publishScoringConfig, type User } from '@tokenwise/db';
import { apiKeys, ledgerTransfers, notifications, requestPayloads, settlements } from '@tokenwise/db/schema';
import { createRuntimeKeys } from '@tokenwise/control';
import { getBalance } from '@tokenwise/ledger';
import { definePlugin, type LlmPayer, type PluginDefinition } from '@tokenwise/plugin-sdk';
import { createTestContext } from '@tokenwise/plugin-sdk/testing';
import { describeEachBackend } from '@tokenwise/db/testing';
import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createContextInner, type PluginRegistry } from '../context';
import { dryRunsPerUserPerMinute } from '../limits';
import { dryRunsInFlightMax } from '../plugin-dry-run';
import { invalidFields } from '../errors';
import { createCaller } from '../router';
import { insertUsage, seedApiFixture } from '../test-fixtures';

/** Scores by whether there is a completion; evidence echoes what it was given, so tests see the stored input. */
const echoJudge = definePlugin({
  id: 'echo-judge',
  version: '1.2.0',
  configSchema: z.object({ rubric: z.string().min(1), threshold: z.number().min(0).max(1).default(0.5) }),
  evidenceWindowSeconds: 0,
  async score(input) {
    const score = input.completion.length > 0 ? 0.9 : 0.1;
    return {
      status: 'scored',
      score,
      confidence: 0.8,
      evidence: {
        completion: input.completion,
        model: input.model,
        rubric: input.config.rubric,
        passed: score >= input.config.threshold,
      },
      rationale: `graded against "${input.config.rubric}"`,
    };
  },
});
const thrower = definePlugin({
  id: 'thrower',
  version: '0.1.0',
  configSchema: z.object({}),
  score: () => Promise.reject(new Error('the judge is out to lunch')),
});
const hanger = definePlugin({
  id: 'hanger',
  version: '0.1.0',
  configSchema: z.object({}),
  score: () => new Promise(() => {}),
});
/** A config schema JSON Schema cannot fully say: z.custom has no JSON form. */
const customSchema = definePlugin({
  id: 'custom-schema',
  version: '0.1.0',
  configSchema: z.object({ pattern: z.custom<RegExp>((value) => value instanceof RegExp), label: z.string() }),
  evidenceWindowSeconds: 3_600,
  pollIntervalSeconds: 600,
  score: () => Promise.resolve({ status: 'not_applicable', reason: 'never applies' }),
});

const registry: PluginRegistry = {
  plugins: new Map<string, PluginDefinition>(
    [echoJudge, thrower, hanger, customSchema].map((plugin) => [plugin.id, plugin as PluginDefinition]),
  ),
  contextFor: () => createTestContext(),
  dryRunTimeoutMs: 300,
};

describeEachBackend('plugins router', (database) => {
  let f: Awaited<ReturnType<typeof seedApiFixture>>;
  let engRequest: string;
  let opsRequest: string;
  const as = async (user: User, plugins: PluginRegistry | null = registry) =>
    createCaller(
      await createContextInner({
        db: f.db,
        ledger: f.ledger,
        keyPepper: f.keyPepper,
        plugins: plugins ?? undefined,
        user: { userId: user.id, orgId: user.orgId, teamId: user.teamId, roles: user.roles },
      }),
    );

  beforeAll(async () => {
    f = await seedApiFixture(database());
    const backend = database().backend;
    engRequest = await insertUsage(f.db, { user: f.users.employee, requestId: `plug-eng-${backend}` });
    opsRequest = await insertUsage(f.db, { user: f.users.opsEmployee, requestId: `plug-ops-${backend}` });
    await f.db.insert(requestPayloads).values({
      requestId: engRequest,
      prompt: [{ role: 'user', content: 'Write a haiku about settlement.' }],
      completion: 'Tokens flow back home',
      truncated: false,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
  });
  afterAll(async () => {
    await f?.ledger.close();
  });

  it('list: any signed-in role sees each plugin with its config schema as JSON Schema; partial when zod cannot say it all', async () => {
    for (const user of [f.users.employee, f.users.esg, f.users.lead, f.users.admin]) {
      const plugins = await (await as(user)).plugins.list();
      expect(plugins.map((plugin) => plugin.id)).toEqual(['custom-schema', 'echo-judge', 'hanger', 'thrower']);
    }
    const plugins = await (await as(f.users.employee)).plugins.list();
    const echo = plugins.find((plugin) => plugin.id === 'echo-judge');
    expect(echo).toMatchObject({
      version: '1.2.0',
      evidenceWindowSeconds: 0,
      pollIntervalSeconds: 60,
      configSchema: { status: 'complete' },
    });
    expect(echo?.configSchema.jsonSchema).toMatchObject({
      type: 'object',
      properties: { rubric: { type: 'string', minLength: 1 } },
      required: ['rubric'],
    });
    const custom = plugins.find((plugin) => plugin.id === 'custom-schema');
    expect(custom).toMatchObject({
      evidenceWindowSeconds: 3_600,
      pollIntervalSeconds: 600,
      configSchema: { status: 'partial', note: expect.stringContaining('Custom types') },
    });
    expect(custom?.configSchema.jsonSchema).toMatchObject({ properties: { label: { type: 'string' } } });
  });

  it('every procedure refuses with PRECONDITION_FAILED when the server has no plugins, and anonymous callers with UNAUTHORIZED', async () => {
    const bare = await as(f.users.admin, null);
    await expect(bare.plugins.list()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('without scoring plugins'),
    });
    await expect(bare.plugins.setTeamConfig({ teamId: f.teams.ops.id, plugins: [] })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
    });
    await expect(
      bare.plugins.dryRun({ requestId: opsRequest, pluginId: 'echo-judge', config: { rubric: 'x' } }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    const anonymous = createCaller(
      await createContextInner({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper, plugins: registry }),
    );
    await expect(anonymous.plugins.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anonymous.plugins.teamConfig({ teamId: f.teams.eng.id })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(anonymous.plugins.dryRun({ requestId: engRequest, pluginId: 'echo-judge' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('setTeamConfig: the lead of the team and an admin publish versions, audited; members read the current one and the history', async () => {
    const lead = await as(f.users.lead);
    expect(await lead.plugins.teamConfig({ teamId: f.teams.eng.id })).toBeNull();
    const first = await lead.plugins.setTeamConfig({
      teamId: f.teams.eng.id,
      plugins: [{ pluginId: 'echo-judge', weight: 2, config: { rubric: 'is it a haiku?' } }],
    });
    expect(first).toMatchObject({ teamId: f.teams.eng.id, version: 1, createdBy: `user:${f.users.lead.id}` });
    const second = await (
      await as(f.users.admin)
    ).plugins.setTeamConfig({
      teamId: f.teams.eng.id,
      plugins: [
        { pluginId: 'echo-judge', weight: 3, config: { rubric: 'is it a good haiku?', threshold: 0.95 } },
        { pluginId: 'thrower', weight: 1 },
      ],
    });
    expect(second.version).toBe(2);
    const current = await (await as(f.users.employee)).plugins.teamConfig({ teamId: f.teams.eng.id });
    expect(current).toMatchObject({
      version: 2,
      plugins: [
        { pluginId: 'echo-judge', weight: 3, config: { rubric: 'is it a good haiku?', threshold: 0.95 } },
        { pluginId: 'thrower', weight: 1, config: {} },
      ],
    });
    const history = await lead.plugins.teamConfigHistory({ teamId: f.teams.eng.id, limit: 10 });
    expect(history.map((item) => item.version)).toEqual([2, 1]);
    const audit = await listAuditForEntity(f.db, { entityType: 'scoring_config', entityId: f.teams.eng.id });
    expect(audit.map((row) => [row.action, row.actor])).toEqual([
      ['scoring_config.publish', `user:${f.users.admin.id}`],
      ['scoring_config.publish', `user:${f.users.lead.id}`],
    ]);
  });

  it('teamConfig and setTeamConfig refuse every role that may not call them', async () => {
    const body = { teamId: f.teams.eng.id, plugins: [{ pluginId: 'echo-judge', weight: 1, config: { rubric: 'r' } }] };
    for (const user of [f.users.employee, f.users.esg, f.users.opsEmployee]) {
      await expect((await as(user)).plugins.setTeamConfig(body)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect(
      (await as(f.users.lead)).plugins.setTeamConfig({ ...body, teamId: f.teams.ops.id }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect((await as(f.otherAdmin)).plugins.setTeamConfig(body)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    for (const user of [f.users.opsEmployee, f.users.esg]) {
      await expect((await as(user)).plugins.teamConfig({ teamId: f.teams.eng.id })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect((await as(user)).plugins.teamConfigHistory({ teamId: f.teams.eng.id })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    }
    await expect((await as(f.otherAdmin)).plugins.teamConfig({ teamId: f.teams.eng.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('setTeamConfig names the bad field: unknown plugin, plugin config, weight; and publishes nothing', async () => {
    const lead = await as(f.users.lead);
    const before = await lead.plugins.teamConfig({ teamId: f.teams.eng.id });
    const failure = async (plugins: unknown[]) => {
      const error: unknown = await lead.plugins
        .setTeamConfig({ teamId: f.teams.eng.id, plugins: plugins as never })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      return { fields: invalidFields((error as { cause?: unknown }).cause), message: (error as Error).message };
    };
    const unknown = await failure([
      { pluginId: 'echo-judge', weight: 1, config: { rubric: 'r' } },
      { pluginId: 'no-such-plugin', weight: 1 },
    ]);
    expect(unknown.fields).toEqual(['plugins.1.pluginId']);
    expect(unknown.message).toContain('echo-judge, hanger');
    const badConfig = await failure([
      { pluginId: 'thrower', weight: 1 },
      { pluginId: 'echo-judge', weight: 1, config: { rubric: '', threshold: 2 } },
    ]);
    expect(badConfig.fields).toEqual(['plugins.1.config.rubric', 'plugins.1.config.threshold']);
    expect((await failure([{ pluginId: 'echo-judge', weight: 0, config: { rubric: 'r' } }])).fields).toEqual([
      'plugins.0.weight',
    ]);
    expect((await failure([{ pluginId: 'echo-judge', weight: 1000, config: { rubric: 'r' } }])).fields).toEqual([
      'plugins.0.weight',
    ]);
    expect(await lead.plugins.teamConfig({ teamId: f.teams.eng.id })).toEqual(before);
  });

  it("dryRun scores a past request with the team's current config, moves no tokens, writes no settlement, and is audited", async () => {
    const wallet = await f.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: f.users.employee.id,
      orgId: f.org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    const source = await f.ledger.ensureAccount({
      ownerType: 'system',
      ownerId: 'issuance',
      currency: 'innovation',
      purpose: 'issuance',
    });
    await f.ledger.submit([
      {
        type: 'transfer',
        id: `grant-plugins-${database().backend}`,
        debitAccountId: source.id,
        creditAccountId: wallet.id,
        amount: 5_000n,
        code: 'grant',
        userData: {},
      },
    ]);
    const countOf = async (table: typeof ledgerTransfers | typeof notifications) =>
      (await f.db.select({ n: count() }).from(table))[0]?.n;
    const before = {
      balance: await getBalance(f.db, wallet.id),
      transfers: await countOf(ledgerTransfers),
      notifications: await countOf(notifications),
    };

    const result = await (await as(f.users.lead)).plugins.dryRun({ requestId: engRequest, pluginId: 'echo-judge' });
    expect(result).toMatchObject({
      requestId: engRequest,
      pluginId: 'echo-judge',
      pluginVersion: '1.2.0',
      configSource: { kind: 'team', version: 2 },
    });
    expect(result.outcome).toMatchObject({
      status: 'scored',
      score: 0.9,
      confidence: 0.8,
      evidence: {
        completion: 'Tokens flow back home',
        model: 'llama-8b',
        rubric: 'is it a good haiku?',
        passed: false,
      },
      rationale: 'graded against "is it a good haiku?"',
    });

    expect({
      balance: await getBalance(f.db, wallet.id),
      transfers: await countOf(ledgerTransfers),
      notifications: await countOf(notifications),
    }).toEqual(before);
    expect(await f.db.select().from(settlements).where(eq(settlements.requestId, engRequest))).toEqual([]);
    const audit = await listAuditForEntity(f.db, { entityType: 'request', entityId: engRequest });
    expect(audit[0]).toMatchObject({
      action: 'plugin.dry_run',
      actor: `user:${f.users.lead.id}`,
      orgId: f.org.id,
      after: { pluginId: 'echo-judge', status: 'scored', configSource: { kind: 'team', version: 2 } },
    });
  });

  it('dryRun with a config of its own: used when valid, refused naming the field when not', async () => {
    const admin = await as(f.users.admin);
    const own = await admin.plugins.dryRun({
      requestId: opsRequest,
      pluginId: 'echo-judge',
      config: { rubric: 'brevity', threshold: 0.05 },
    });
    expect(own).toMatchObject({
      configSource: { kind: 'input' },
      outcome: { status: 'scored', score: 0.1, evidence: { completion: '', passed: true } },
    });
    const error: unknown = await admin.plugins
      .dryRun({ requestId: opsRequest, pluginId: 'echo-judge', config: { threshold: 'high' } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(invalidFields((error as { cause?: unknown }).cause)).toEqual(['config.rubric', 'config.threshold']);
    const unknown: unknown = await admin.plugins
      .dryRun({ requestId: opsRequest, pluginId: 'nope', config: {} })
      .catch((caught: unknown) => caught);
    expect(invalidFields((unknown as { cause?: unknown }).cause)).toEqual(['pluginId']);
    await expect(admin.plugins.dryRun({ requestId: opsRequest, pluginId: 'echo-judge' })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('pass `config`'),
    });
  });

  it('dryRun of a throwing or hanging plugin is an error outcome within the timeout, not a failure or a hang', async () => {
    const lead = await as(f.users.lead);
    const threw = await lead.plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' });
    expect(threw.outcome).toMatchObject({
      status: 'error',
      error: { kind: 'threw', message: expect.stringContaining('out to lunch') },
    });
    const startedAt = Date.now();
    const hung = await lead.plugins.dryRun({ requestId: engRequest, pluginId: 'hanger', config: {} });
    expect(hung.outcome).toMatchObject({ status: 'error', error: { kind: 'timeout' } });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const audit = await listAuditForEntity(f.db, { entityType: 'request', entityId: engRequest });
    expect(audit.slice(0, 2).map((row) => row.after)).toMatchObject([
      { pluginId: 'hanger', status: 'error', errorKind: 'timeout' },
      { pluginId: 'thrower', status: 'error', errorKind: 'threw' },
    ]);
  });

  it("dryRun's LLM calls are charged to the caller's own wallet, not to any judge account", async () => {
    const payers: LlmPayer[] = [];
    const recording: PluginRegistry = {
      ...registry,
      contextFor: (_pluginId, payer) => (payers.push(payer), createTestContext()),
    };
    await (await as(f.users.lead, recording)).plugins.dryRun({ requestId: engRequest, pluginId: 'echo-judge' });
    await (
      await as(f.users.admin, recording)
    ).plugins.dryRun({ requestId: opsRequest, pluginId: 'echo-judge', config: { rubric: 'r' } });
    expect(payers).toEqual([
      { kind: 'user', orgId: f.org.id, userId: f.users.lead.id },
      { kind: 'user', orgId: f.org.id, userId: f.users.admin.id },
    ]);
  });

  it('dryRun is rate-limited per user: the one over dryRunsPerUserPerMinute is TOO_MANY_REQUESTS saying when to retry; others and a minute later go on', async () => {
    let nowMs = Date.parse('2026-12-01T10:00:00Z');
    const limited: PluginRegistry = { ...registry, clock: () => nowMs };
    const lead = await as(f.users.lead, limited);
    for (let run = 0; run < dryRunsPerUserPerMinute; run++) {
      await lead.plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' });
      nowMs += 1_000;
    }
    await expect(lead.plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' })).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many dry runs: at most ${dryRunsPerUserPerMinute} per minute per user (dryRunsPerUserPerMinute); retry after 50 s.`,
    });
    await expect(
      (await as(f.users.admin, limited)).plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' }),
    ).resolves.toMatchObject({ outcome: { status: 'error' } });
    nowMs += 50_000;
    await expect(lead.plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' })).resolves.toMatchObject({
      outcome: { status: 'error' },
    });
  });

  it("dryRun refuses a dry run's own LLM call (it quotes another request's prompt), even to its caller", async () => {
    const keys = createRuntimeKeys({ db: f.db, pepper: f.keyPepper });
    await keys.keyFor({ kind: 'user', orgId: f.org.id, userId: f.users.lead.id });
    const [minted] = await f.db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, f.users.lead.id), eq(apiKeys.mintedFor, 'plugin_dry_run')));
    const judgeCall = await insertUsage(f.db, {
      user: f.users.lead,
      requestId: `plug-dry-call-${database().backend}`,
      keyId: minted?.id,
    });
    await expect(
      (await as(f.users.lead)).plugins.dryRun({
        requestId: judgeCall,
        pluginId: 'echo-judge',
        config: { rubric: 'r' },
      }),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('LLM call of a plugin dry run'),
    });
    await expect(
      (await as(f.users.admin)).plugins.dryRun({
        requestId: judgeCall,
        pluginId: 'echo-judge',
        config: { rubric: 'r' },
      }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('dryRun refuses employees, ESG officers, a lead on another team, and other orgs', async () => {
    const input = { requestId: engRequest, pluginId: 'echo-judge', config: { rubric: 'r' } };
    for (const user of [f.users.employee, f.users.esg]) {
      await expect((await as(user)).plugins.dryRun(input)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    // As usage.byId: a request the lead may not read through usage does not exist for them.
    await expect((await as(f.users.lead)).plugins.dryRun({ ...input, requestId: opsRequest })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `No request ${opsRequest} that you may see.`,
    });
    await expect((await as(f.otherAdmin)).plugins.dryRun(input)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      (await as(f.users.lead)).plugins.dryRun({ ...input, requestId: 'no-such-request' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('dryRun re-validates a stored config when it runs, as settlement does: one the plugin now refuses is an invalid_config outcome', async () => {
    // Written past the API (as an older plugin version would have accepted it): the API itself refuses this config.
    await publishScoringConfig(f.db, {
      teamId: f.teams.ops.id,
      plugins: [{ pluginId: 'echo-judge', weight: 1, config: { rubric: 42 } }],
      actor: 'test',
    });
    const result = await (await as(f.users.admin)).plugins.dryRun({ requestId: opsRequest, pluginId: 'echo-judge' });
    expect(result).toMatchObject({
      configSource: { kind: 'team', version: 1 },
      outcome: { status: 'error', error: { kind: 'invalid_config', message: expect.stringContaining('rubric') } },
    });
  });

  it('dryRun bounds the runs in flight per server: one more is TOO_MANY_REQUESTS, not another open LLM call', async () => {
    const busy: PluginRegistry = { ...registry, dryRunTimeoutMs: 1_500 };
    const admin = await as(f.users.admin, busy);
    const runs = Array.from({ length: dryRunsInFlightMax + 1 }, () =>
      admin.plugins.dryRun({ requestId: engRequest, pluginId: 'hanger', config: {} }).then(
        (result) => result.outcome.status,
        (error: { code?: string }) => error.code,
      ),
    );
    const statuses = await Promise.all(runs);
    expect(statuses.filter((status) => status === 'TOO_MANY_REQUESTS')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'error')).toHaveLength(dryRunsInFlightMax);
    expect((await admin.plugins.dryRun({ requestId: engRequest, pluginId: 'thrower' })).outcome.status).toBe('error');
  });
});
