import { createCaller, createContextInner } from '@tokenwise/api';
import { createOrg, createTeam, createUser, type Database, type Db, type User } from '@tokenwise/db';
import { settlements, usageRecords } from '@tokenwise/db/schema';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createLedger } from '@tokenwise/ledger';
import { randomBytes } from 'node:crypto';
import { startSlackBot, type RunningSlackBot, type SlackBotDeps } from './app';
import type { SlackConfig } from './config';
import { startLocalSlack, type LocalSlack } from './testing/index';

/**
 * One org (two teams, a person per role), a second org holding a user with the SAME email as
 * our employee, a local Slack whose members carry those emails, and the bot (HTTP unless
 * `transport: 'socket'`) bound to the first org. PGlite; one per test file.
 */
export async function openSlackWorld(
  options: {
    transport?: 'http' | 'socket';
    bot?: Partial<SlackBotDeps>;
    /** Runs before the bot starts: e.g. make auth.test fail. */
    beforeBot?: (slack: LocalSlack) => void;
  } = {},
) {
  const database: Database = await openTestDatabase('pglite');
  const db = database.db;
  const ledger = createLedger({ db, hmacKey: randomBytes(32) });
  const keyPepper = randomBytes(32);
  const org = await createOrg(db, { actor: 'test', input: { slug: 'acme', name: 'Acme' } });
  const eng = await createTeam(db, { actor: 'test', input: { orgId: org.id, slug: 'eng', name: 'Engineering' } });
  const person = (email: string, name: string, teamId: string | null, roles: User['roles']) =>
    createUser(db, { actor: 'test', input: { orgId: org.id, teamId, email, displayName: name, roles } });
  const users = {
    employee: await person('emma@acme.test', 'Emma', eng.id, ['employee']),
    colleague: await person('carl@acme.test', 'Carl', eng.id, ['employee']),
    lead: await person('lea@acme.test', 'Lea', eng.id, ['employee', 'lead']),
    esg: await person('esther@acme.test', 'Esther', null, ['esg']),
    admin: await person('ada@acme.test', 'Ada Admin', null, ['admin']),
  };
  const globex = await createOrg(db, { actor: 'test', input: { slug: 'globex', name: 'Globex' } });
  const stranger = await createUser(db, {
    actor: 'test',
    input: { orgId: globex.id, email: 'gus@globex.test', displayName: 'Gus', roles: ['admin'] },
  });

  const slack = await startLocalSlack();
  const members = {
    employee: slack.addMember({ id: 'U0EMMA', name: 'emma', realName: 'Emma', email: 'Emma@acme.test' }),
    colleague: slack.addMember({ id: 'U0CARL', name: 'carl', realName: 'Carl', email: 'carl@acme.test' }),
    lead: slack.addMember({ id: 'U0LEA', name: 'lea', realName: 'Lea', email: 'lea@acme.test' }),
    esg: slack.addMember({ id: 'U0ESTHER', name: 'esther', realName: 'Esther', email: 'esther@acme.test' }),
    /** In the workspace, but only Globex has a user with this email. */
    stranger: slack.addMember({ id: 'U0GUS', name: 'gus', realName: 'Gus', email: 'gus@globex.test' }),
    noEmail: slack.addMember({ id: 'U0NOMAIL', name: 'nomail', realName: 'No Mail' }),
  };
  const transport: SlackConfig['transport'] =
    options.transport === 'socket'
      ? { kind: 'socket', appToken: slack.appToken }
      : { kind: 'http', signingSecret: slack.signingSecret, port: 0, host: '127.0.0.1' };
  const logs: string[] = [];
  options.beforeBot?.(slack);
  const bot: RunningSlackBot = await startSlackBot({
    db,
    ledger,
    keyPepper,
    org: { slug: 'acme' },
    config: { botToken: slack.botToken, transport, apiUrl: slack.apiUrl, orgSlug: 'acme' },
    log: (line) => logs.push(line),
    authRetry: { initialMs: 20, maxMs: 100 },
    ...options.bot,
  });
  const as = async (user: User) =>
    createCaller(
      await createContextInner({
        db,
        ledger,
        keyPepper,
        user: { userId: user.id, orgId: user.orgId, teamId: user.teamId, roles: user.roles },
      }),
    );
  return {
    db,
    ledger,
    keyPepper,
    org,
    team: eng,
    users,
    stranger,
    slack,
    members,
    bot,
    logs,
    as,
    /** Where to deliver: the bot's HTTP endpoint, or its Socket Mode connection. */
    sender: options.transport === 'socket' ? slack.socket : slack.http(bot.url ?? ''),
    async close() {
      await bot.close();
      await slack.close();
      await ledger.close();
      await database.close();
    },
  };
}

export type SlackWorld = Awaited<ReturnType<typeof openSlackWorld>>;

let requestCounter = 0;

/** One usage row (and its settlement when `score` is given), as the gateway and worker write them. */
export async function insertUsage(
  db: Db,
  params: { user: User; requestId?: string; cost?: bigint; score?: number; rationale?: string; createdAt?: Date },
): Promise<string> {
  requestCounter += 1;
  const requestId = params.requestId ?? `req-slack-${String(requestCounter).padStart(5, '0')}`;
  await db.insert(usageRecords).values({
    requestId,
    orgId: params.user.orgId,
    userId: params.user.id,
    teamId: params.user.teamId,
    keyId: 'aaaaaaaaaaaa',
    model: 'llama-8b',
    cluster: 'local',
    replica: 'r0',
    tier: 'standard',
    promptTokens: 100,
    completionTokens: 900,
    currency: 'innovation',
    cost: params.cost ?? 1_000_000n,
    priceListVersion: 1,
    latencyMs: 50,
    co2eMicrograms: 1_500_000n,
    energyMicroWh: 10_000n,
    system: false,
    outcome: 'completed',
    createdAt: params.createdAt ?? new Date(Date.now() - 60_000 + requestCounter),
  });
  if (params.score !== undefined)
    await db.insert(settlements).values({
      requestId,
      score: params.score,
      confidence: 0.9,
      refund: 250_000n,
      refundCurrency: 'innovation',
      reward: 0n,
      results: [
        {
          pluginId: 'llm-judge',
          weight: 1,
          status: 'scored',
          score: params.score,
          confidence: 0.9,
          rationale: params.rationale ?? 'Useful answer.',
          attempts: 1,
        },
      ],
      reason: 'scored by llm-judge',
    });
  return requestId;
}
