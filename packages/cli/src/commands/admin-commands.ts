import {
  currencies,
  currencyByCode,
  formatAmount,
  formatModelWeightBillions,
  grantClientIdOf,
  NotFoundError,
  parseAmount,
  parsePriceList,
  stringifyJson,
  ValidationError,
  type PriceList,
  type SettlementBounds,
  type SettlementPolicy,
} from '@tokenwise/core';
import {
  createOrg,
  createTeam,
  createUser,
  currentScoringConfig,
  currentSettlementPolicy,
  findOrgBySlug,
  findTeamBySlug,
  findUserByEmail,
  getSettlementBounds,
  listJudgeBudgets,
  publishScoringConfig,
  publishSettlementPolicy,
  scoringPluginsSchema,
  setPlatformOrg,
  setGrantBounds,
  setSettlementBounds,
  type Db,
  type Org,
  type ScoringPlugin,
  type StoredSettlementBounds,
  type Team,
} from '@tokenwise/db';
import { roles } from '@tokenwise/db/schema';
import {
  addCluster,
  addReplica,
  closeAbandonedAdmissions,
  createApiKey,
  findAbandonedAdmissions,
  keyScopes,
  listApiKeys,
  listClusters,
  loadEffectivePriceList,
  loadNewestPriceList,
  publishPriceList,
  reconcileBatchMax,
  removeCluster,
  removeReplica,
  revokeApiKey,
  revokeApiKeyCascade,
  rotateApiKey,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
  type AbandonedAdmission,
  type ApiKeyInfo,
  type ClusterRecord,
  type KeyScope,
  requestTimeoutMsDefault,
} from '@tokenwise/control';
import {
  applyJudgeBudget,
  createIssuanceMeter,
  findAccount,
  judgeWalletKey,
  type Ledger,
  type Transfer,
} from '@tokenwise/ledger';
import { loadPlugins, parsePluginConfig, type LoadPluginsResult } from '@tokenwise/plugin-sdk';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Services } from '../services';
import { UsageError } from '../usage-error';

export type CommandOptions = Record<string, string | boolean | undefined>;
export interface CommandOutput {
  text: string;
  data: unknown;
  exitCode?: number;
}
/** A command that needs the database and ledger; it runs in the platform process or in the CLI. */
export type AdminCommand = (services: Services, options: CommandOptions, actor: string) => Promise<CommandOutput>;

function text(options: CommandOptions, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required.`);
  return value.trim();
}

function optionalText(options: CommandOptions, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

async function orgOf(db: Db, options: CommandOptions): Promise<Org> {
  const slug = text(options, 'org');
  const org = await findOrgBySlug(db, { slug });
  if (org === undefined)
    throw new NotFoundError(`No org "${slug}". Create it with \`tokenwise org create --slug ${slug} --name ...\`.`);
  return org;
}

/** The wallet owner named by --user (email), --team (slug), or the org itself when neither is given. */
async function ownerOf(db: Db, options: CommandOptions) {
  const org = await orgOf(db, options);
  const email = optionalText(options, 'user');
  const teamSlug = optionalText(options, 'team');
  if (email !== undefined && teamSlug !== undefined) throw new UsageError('Give --user or --team, not both.');
  if (email !== undefined) {
    const user = await findUserByEmail(db, { orgId: org.id, email });
    if (user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
    return { org, ownerType: 'user' as const, ownerId: user.id, label: `${email} (${org.slug})` };
  }
  if (teamSlug !== undefined) {
    const team = await findTeamBySlug(db, { orgId: org.id, slug: teamSlug });
    if (team === undefined) throw new NotFoundError(`No team ${teamSlug} in org ${org.slug}.`);
    return { org, ownerType: 'team' as const, ownerId: team.id, label: `team ${teamSlug} (${org.slug})` };
  }
  return { org, ownerType: 'org' as const, ownerId: org.id, label: `org ${org.slug}` };
}

/** One history line; a grant of the account's org shows the id its admin gave it. */
function describeTransfer(transfer: Transfer, accountId: string, orgId: string): string {
  const currency = currencyByCode(transfer.currency);
  const sign = transfer.creditAccountId === accountId ? '+' : '-';
  const held =
    transfer.type === 'pending'
      ? ' (held)'
      : transfer.type === 'void' || transfer.type === 'expire'
        ? ' (released)'
        : '';
  return `${transfer.createdAt.toISOString()}  ${String(transfer.seq).padStart(8)}  ${transfer.type.padEnd(8)} ${sign}${formatAmount(transfer.amount, currency).padStart(14)} ${currency.code}${held}  ${transfer.code}  ${grantClientIdOf(orgId, transfer.id) ?? transfer.id}`;
}

/** A whole number option within bounds, or undefined when not given. */
function optionalCount(options: CommandOptions, name: string, max: number): number | undefined {
  const value = optionalText(options, name);
  if (value === undefined) return undefined;
  const count = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max))
    throw new ValidationError(`--${name} must be a whole number from 1 to ${max}, got "${value}".`);
  return count;
}

function list(options: CommandOptions, name: string): string[] | undefined {
  const value = optionalText(options, name);
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
}

function keyStatus(key: ApiKeyInfo, now: Date): string {
  const at = (date: Date | string) => new Date(date).toISOString();
  if (key.revokedAt !== null) return `revoked ${at(key.revokedAt)}`;
  if (key.expiresAt !== null && new Date(key.expiresAt) <= now) return `expired ${at(key.expiresAt)}`;
  if (key.replacedBy !== null) return `rotated to ${key.replacedBy}, works until ${at(key.expiresAt ?? now)}`;
  return key.expiresAt === null ? 'active' : `active until ${at(key.expiresAt)}`;
}

function describeKey(key: ApiKeyInfo, owner: string): string {
  const limits = [
    key.rpmLimit === null ? undefined : `rpm ${key.rpmLimit}`,
    key.tpmLimit === null ? undefined : `tpm ${key.tpmLimit}`,
  ].filter((item) => item !== undefined);
  return `${key.id}  "${key.name}"  ${owner}  scopes ${key.scopes.join(',')}  models ${key.allowedModels?.join(',') ?? 'all'}  ${limits.length === 0 ? 'no rate limits' : limits.join(' ')}`;
}

function shownOnce(secret: string): string {
  return `\n\n  ${secret}\n\nStore it now: this is the only time the key is shown. It cannot be recovered, only rotated or revoked.`;
}

/** A price list file is a few hundred models at most; anything larger is the wrong file. */
const priceListFileBytesMax = 1024 * 1024;
/** One cluster's JSON: 64 replicas and 64 models at most. */
const clusterFileBytesMax = 64 * 1024;
/** Scoring, policy and bounds files are small: a few rubrics at most. */
const settlementFileBytesMax = 512 * 1024;

/** Reads and parses a JSON file named by --file; `what` names it in every error ("price list"). */
async function readJsonFile(path: string, what: string, bytesMax: number): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ValidationError(`${path} is not a file.`);
    if (info.size > bytesMax)
      throw new ValidationError(`${path} has ${info.size} bytes; a ${what} file holds at most ${bytesMax}.`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`Cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Minor units with their currency; a currency this build does not know shows as raw minor units. */
function money(amount: bigint, code: string): string {
  try {
    return `${formatAmount(amount, currencyByCode(code))} ${code}`;
  } catch {
    return `${amount} minor units of ${code}`;
  }
}

function describePriceList(version: number, list: PriceList): string {
  const models = Object.entries(list.models).map(([id, model]) => {
    const tiers = Object.entries(model.tiers)
      .map(([tier, fee]) => `${tier} ${money(fee.fee, fee.currency)}`)
      .join(', ');
    return `${id}: ${model.currency}, per million tokens in ${model.cInputPerMTok} out ${model.cOutputPerMTok} (minor units), weight ${formatModelWeightBillions(model.weightMilliBillions)} B params at ${model.cModelPerBParam} per B; fees ${tiers}`;
  });
  const carbon =
    list.carbonPrice === undefined
      ? 'carbon not priced'
      : `carbon ${money(list.carbonPrice.perKgCo2e, list.carbonPrice.currency)} per kg CO2e`;
  return `Price list version ${version} ("${list.version}"), ${carbon}:\n  ${models.join('\n  ')}`;
}

/** Micrograms as grams, exact: six decimals at most, trailing zeros dropped. */
function grams(micrograms: bigint): string {
  const whole = micrograms / 1_000_000n;
  const fraction = (micrograms % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

const usageColumns = {
  createdAt: true,
  requestId: true,
  userId: true,
  model: true,
  tier: true,
  promptTokens: true,
  completionTokens: true,
  currency: true,
  cost: true,
  feeCurrency: true,
  fee: true,
  co2eMicrograms: true,
  outcome: true,
  priceListVersion: true,
} as const;

/** The gateway's default request timeout, in minutes: a request this old is over, whatever happened. */
const requestTimeoutMinutesDefault = Math.ceil(requestTimeoutMsDefault / 60_000);
/** Twice the request timeout plus a minute: the gateway's own hold lifetime, so nothing live is touched. */
const reconcileOlderThanMinutesDefault = requestTimeoutMinutesDefault * 2 + 1;
/** Rounds of one reconcile run; more left over is closed by the next run. */
const reconcileRoundsMax = 50;
const reconcileListedMax = 20;

function describeAbandoned(admission: AbandonedAdmission): string {
  return `${admission.createdAt.toISOString()}  ${admission.requestId}  ${admission.model}  ${admission.holdIds.join(', ')}`;
}

/** The team named by --team in the org named by --org. */
async function teamOf(db: Db, options: CommandOptions): Promise<{ org: Org; team: Team; label: string }> {
  const org = await orgOf(db, options);
  const slug = text(options, 'team');
  const team = await findTeamBySlug(db, { orgId: org.id, slug });
  if (team === undefined) throw new NotFoundError(`No team ${slug} in org ${org.slug}.`);
  return { org, team, label: `team ${team.slug} (${org.slug})` };
}

/** The workspace root, where plugins/* live: configs are checked against the plugins the worker loads. */
const workspaceDir = fileURLToPath(new URL('../../../../', import.meta.url));
let workspacePlugins: Promise<LoadPluginsResult> | undefined;

/** Loaded once per process: importing a plugin runs its code, and plugins only change with a restart. */
function loadWorkspacePlugins(): Promise<LoadPluginsResult> {
  workspacePlugins ??= loadPlugins({ workspaceDir, allowNpm: false });
  return workspacePlugins;
}

/**
 * Checks a scoring file: its shape (ids, weights, count), then each plugin's config with that
 * plugin's own schema, so a config the worker would refuse is refused now, naming plugin and field.
 */
async function checkScoringPlugins(body: unknown): Promise<ScoringPlugin[]> {
  const parsed = scoringPluginsSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'scoring configuration'}: ${issue.message}`,
    );
    throw new ValidationError(
      `Invalid scoring configuration (a JSON array of { pluginId, weight, config }): ${issues.join('; ')}.`,
      { issues },
    );
  }
  const { loaded, rejected } = await loadWorkspacePlugins();
  const plugins = new Map(loaded.map(({ plugin }) => [plugin.id, plugin]));
  parsed.data.forEach((entry, index) => {
    const plugin = plugins.get(entry.pluginId);
    if (plugin === undefined) {
      const known = [...plugins.keys()].sort().join(', ') || 'none';
      const broken =
        rejected.length === 0
          ? ''
          : ` (left out: ${rejected.map((item) => `${item.source}: ${item.reason}`).join('; ')})`;
      throw new ValidationError(
        `Unknown plugin "${entry.pluginId}" at ${index}.pluginId: loaded plugins are ${known}${broken}.`,
      );
    }
    parsePluginConfig(plugin, entry.config);
  });
  return parsed.data as ScoringPlugin[];
}

function describeScoringPlugins(plugins: readonly ScoringPlugin[]): string {
  if (plugins.length === 0) return '(no plugins: requests of this team are not scored)';
  return plugins
    .map((plugin) => `${plugin.pluginId}  weight ${plugin.weight}  config ${stringifyJson(plugin.config)}`)
    .join('\n  ');
}

function describePolicy(policy: SettlementPolicy): string {
  const tiers = [...policy.refunds]
    .sort((a, b) => a.minScore - b.minScore)
    .map((tier) => `refund ${tier.shareBps} bps of the cost at score >= ${tier.minScore}`);
  const reward =
    policy.reward === undefined
      ? 'no reward'
      : `reward ${money(policy.reward.amount, policy.reward.currency)} at score >= ${policy.reward.minScore}, at most ${policy.maxRewardShareBps} bps of the cost`;
  return [
    ...(tiers.length === 0 ? ['no refunds'] : tiers),
    reward,
    `nothing below confidence ${policy.minConfidence}`,
  ].join('\n  ');
}

function describeWarnings(warnings: readonly string[]): string {
  return warnings.length === 0
    ? ''
    : `\nBeyond the org's bounds (stored; settlements cap it):\n  ${warnings.join('\n  ')}`;
}

function describeBounds(bounds: SettlementBounds): string {
  return `largest refund share ${bounds.maxRefundShareBps} bps, largest reward per request ${bounds.maxRewardPerRequest} minor units, at most ${bounds.maxRewardPerUserPerMonth} minor units of rewards per user and month`;
}

function boundsOrigin(stored: StoredSettlementBounds): string {
  return stored.explicit
    ? `set by ${stored.updatedBy} at ${stored.updatedAt?.toISOString()}`
    : 'never set: the defaults apply';
}

/** A decimal number option such as 250 or 1.15 (required). */
function decimal(options: CommandOptions, name: string): number {
  const value = text(options, name);
  if (!/^[0-9]{1,6}(\.[0-9]{1,6})?$/.test(value))
    throw new ValidationError(`--${name} must be a decimal number such as 250 or 1.15, got "${value}".`);
  return Number(value);
}

function describeCarbon(record: ClusterRecord): string {
  const pue = record.pue === null ? 'default PUE' : `PUE ${record.pue}`;
  const source =
    record.carbonSetBy === null
      ? 'from the startup configuration'
      : `set by ${record.carbonSetBy} at ${record.carbonSetAt?.toISOString()}`;
  return `region ${record.region}, ${record.gridIntensityGCo2ePerKwh} gCO2e/kWh, ${pue} (${source})`;
}

function describeCluster(record: ClusterRecord): string {
  const off = (id: string) => (record.disabledReplicas.includes(id) ? ' DISABLED,' : '');
  const replicas = record.replicas.map((replica) => {
    const health = record.health?.[replica.id];
    return `${replica.id} ${replica.url}${off(replica.id)} ${health === undefined ? 'health unknown' : health.healthy ? `healthy, circuit ${health.circuit}` : `unhealthy, circuit ${health.circuit}`}`;
  });
  const scheduling = record.priorityScheduling ? 'priority scheduling' : 'FCFS scheduling';
  const state = record.disabledAt === null ? '' : ` DISABLED since ${record.disabledAt.toISOString()}`;
  return `${record.name} v${record.version}${state}: models ${record.models.join(', ')}; ${scheduling}, ${record.maxConcurrencyPerReplica} per replica; ${describeCarbon(record)}\n    ${replicas.join('\n    ')}`;
}

/** `clusters disable|enable --cluster N [--replica R]`: a whole cluster, or one replica of it. */
async function changeAvailability(
  db: Db,
  options: CommandOptions,
  actor: string,
  disabled: boolean,
): Promise<CommandOutput> {
  const name = text(options, 'cluster');
  const replicaId = optionalText(options, 'replica');
  const verb = disabled ? 'Disabled' : 'Enabled';
  if (replicaId === undefined) {
    const record = await setClusterDisabled(db, { name, disabled, actor });
    const effect = disabled
      ? 'its models get no new request within seconds; requests in flight finish'
      : 'gateways offer its models again within seconds';
    return { text: `${verb} cluster ${name}: ${effect}.`, data: record };
  }
  const record = await setReplicaDisabled(db, { name, replicaId, disabled, actor });
  const effect = disabled
    ? 'it gets no new request within seconds; health checks go on'
    : 'it takes new requests again within seconds';
  return { text: `${verb} replica ${replicaId} of cluster ${name}: ${effect}.`, data: record };
}

/** The org's grant bounds in `currency` and what it issued and may still issue this month (its time zone). */
async function describeIssuance(
  db: Db,
  ledger: Pick<Ledger, 'ensureAccount'>,
  org: Org,
  code: string,
): Promise<CommandOutput> {
  const currency = currencyByCode(code);
  const status = await createIssuanceMeter(db, (key) => ledger.ensureAccount(key)).status({
    orgId: org.id,
    currency: code,
    at: new Date(),
  });
  const show = (amount: bigint) => `${formatAmount(amount, currency)} ${code}`;
  const origin = status.configured ? 'set by the operator' : 'platform defaults';
  return {
    text: `Grant bounds of org ${org.slug} (${origin}): at most ${show(status.bounds.grantAmountMax)} per grant, ${show(status.bounds.monthlyIssuanceMax)} per month; ${status.period} (${status.timeZone}): ${show(status.issuedThisMonth)} issued, ${show(status.left)} left.`,
    data: status,
  };
}

export const adminCommands: Record<string, AdminCommand> = {
  async 'org create'({ database }, options, actor) {
    const org = await createOrg(database.db, {
      actor,
      input: {
        slug: text(options, 'slug'),
        name: text(options, 'name'),
        timeZone: optionalText(options, 'time-zone') ?? 'UTC',
      },
    });
    return { text: `Created org ${org.slug} (${org.id}), time zone ${org.timeZone}.`, data: org };
  },

  async 'org set-platform'({ database }, options, actor) {
    const org = await orgOf(database.db, options);
    const { previousOrgId } = await setPlatformOrg(database.db, { orgId: org.id, actor });
    const previous = previousOrgId === null || previousOrgId === org.id ? '' : ` (it replaces org ${previousOrgId})`;
    return {
      text: `Org ${org.slug} is the platform org${previous}: its admins may change clusters through the API.`,
      data: { orgId: org.id, previousOrgId },
    };
  },

  async 'org set-grant-bounds'({ database, ledger }, options, actor) {
    const org = await orgOf(database.db, options);
    const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
    const grantAmountMax = parseAmount(text(options, 'per-grant'), currency);
    const monthlyIssuanceMax = parseAmount(text(options, 'per-month'), currency);
    if (grantAmountMax <= 0n || monthlyIssuanceMax <= 0n)
      throw new ValidationError('--per-grant and --per-month must be greater than zero.');
    await setGrantBounds(database.db, {
      orgId: org.id,
      currency: currency.code,
      bounds: { grantAmountMax, monthlyIssuanceMax },
      actor,
    });
    return describeIssuance(database.db, ledger, org, currency.code);
  },

  async 'org grant-bounds'({ database, ledger }, options) {
    const org = await orgOf(database.db, options);
    return describeIssuance(
      database.db,
      ledger,
      org,
      currencyByCode(optionalText(options, 'currency') ?? 'innovation').code,
    );
  },

  async 'judge-budget set'({ database, ledger }, options, actor) {
    const org = await orgOf(database.db, options);
    const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
    const amount = parseAmount(text(options, 'amount'), currency);
    if (amount < 0n) throw new ValidationError('--amount must be 0 (no budget) or more.');
    const { walletId, thisMonth } = await applyJudgeBudget(database.db, ledger, {
      orgId: org.id,
      currency: currency.code,
      amount,
      actor,
    });
    const available = (await ledger.balance(walletId)).available;
    const month =
      thisMonth.status === 'over_grant_bounds'
        ? `this month's was not funded: ${thisMonth.message}`
        : thisMonth.status === 'funded'
          ? "this month's is funded now"
          : thisMonth.status === 'removed'
            ? 'no more monthly funding'
            : 'this month was funded already (a new amount applies from next month)';
    const what =
      amount === 0n
        ? `Judge budget of org ${org.slug} removed`
        : `Judge budget of org ${org.slug}: ${formatAmount(amount, currency)} ${currency.code} a month`;
    return {
      text: `${what}; ${month}. Judge wallet: ${formatAmount(available, currency)} ${currency.code} available.`,
      data: { walletId, thisMonth, available },
    };
  },

  async 'judge-budget show'({ database, ledger }, options) {
    const org = await orgOf(database.db, options);
    const budgets = await listJudgeBudgets(database.db, { orgId: org.id });
    const lines: string[] = [];
    for (const currency of currencies) {
      const wallet = await findAccount(database.db, judgeWalletKey({ orgId: org.id, currency: currency.code }));
      const available = wallet === undefined ? 0n : (await ledger.balance(wallet.id)).available;
      const budget = budgets.find((row) => row.currency === currency.code);
      lines.push(
        `${currency.code.padEnd(11)} ${budget === undefined ? 'no monthly budget' : `${formatAmount(budget.amount, currency)} a month`}, judge wallet ${formatAmount(available, currency)} available`,
      );
    }
    return {
      text: `Judge budget of org ${org.slug} (its requests' judging is paid from it):\n  ${lines.join('\n  ')}`,
      data: budgets,
    };
  },

  async 'team create'({ database }, options, actor) {
    const org = await orgOf(database.db, options);
    const team = await createTeam(database.db, {
      actor,
      input: { orgId: org.id, slug: text(options, 'slug'), name: text(options, 'name') },
    });
    return { text: `Created team ${team.slug} in ${org.slug} (${team.id}).`, data: team };
  },

  async 'user create'({ database }, options, actor) {
    const org = await orgOf(database.db, options);
    const teamSlug = optionalText(options, 'team');
    const team =
      teamSlug === undefined ? undefined : await findTeamBySlug(database.db, { orgId: org.id, slug: teamSlug });
    if (teamSlug !== undefined && team === undefined)
      throw new NotFoundError(`No team ${teamSlug} in org ${org.slug}.`);
    const roleList = (optionalText(options, 'roles') ?? 'employee').split(',').map((role) => role.trim());
    const unknown = roleList.filter((role) => !(roles as readonly string[]).includes(role));
    if (unknown.length > 0)
      throw new ValidationError(`Unknown role(s) ${unknown.join(', ')}: use ${roles.join(', ')}.`);
    const user = await createUser(database.db, {
      actor,
      input: {
        orgId: org.id,
        teamId: team?.id ?? null,
        email: text(options, 'email'),
        displayName: text(options, 'name'),
        roles: roleList as (typeof roles)[number][],
      },
    });
    return {
      text: `Created user ${user.email} in ${org.slug} (${user.id}), roles ${user.roles.join(', ')}.`,
      data: user,
    };
  },

  async grant({ database, ledger }, options, actor) {
    const owner = await ownerOf(database.db, options);
    const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
    const amount = parseAmount(text(options, 'amount'), currency);
    if (amount <= 0n) throw new ValidationError('--amount must be greater than zero.');
    const wallet = await ledger.ensureAccount({
      ownerType: owner.ownerType,
      ownerId: owner.ownerId,
      orgId: owner.org.id,
      currency: currency.code,
      purpose: 'wallet',
    });
    if (options.monthly === true) {
      const result = await ledger.grantAllowance({
        to: wallet.id,
        currency: currency.code,
        amount,
        at: new Date(),
        timeZone: owner.org.timeZone,
        actor,
        orgId: owner.org.id,
      });
      const verb = result.duplicate ? 'was already granted' : 'granted';
      return {
        text: `Monthly allowance ${result.period} (${owner.org.timeZone}) ${verb}: ${formatAmount(amount, currency)} ${currency.code} to ${owner.label}.`,
        data: result,
      };
    }
    // The id is the admin's, unique within the org; the ledger namespaces it by org.
    const id = optionalText(options, 'id') ?? randomUUID();
    const result = await ledger.grant({
      id,
      to: wallet.id,
      currency: currency.code,
      amount,
      actor,
      reason: text(options, 'reason'),
      orgId: owner.org.id,
    });
    const balance = await ledger.balance(wallet.id);
    const note = result.duplicate ? ' (already applied earlier: nothing moved this time)' : '';
    return {
      text: `Granted ${formatAmount(amount, currency)} ${currency.code} to ${owner.label}${note}. Grant id ${id}. Available: ${formatAmount(balance.available, currency)} ${currency.code}.`,
      data: { ...result, balance },
    };
  },

  async balance({ database, ledger }, options) {
    const owner = await ownerOf(database.db, options);
    const lines: string[] = [];
    const data: unknown[] = [];
    for (const currency of currencies) {
      const account = await findAccount(database.db, {
        ownerType: owner.ownerType,
        ownerId: owner.ownerId,
        currency: currency.code,
        purpose: 'wallet',
      });
      if (account === undefined) {
        lines.push(`${currency.code.padEnd(11)} available 0 (no wallet yet)`);
        continue;
      }
      const balance = await ledger.balance(account.id);
      data.push(balance);
      lines.push(
        `${currency.code.padEnd(11)} available ${formatAmount(balance.available, currency)}, held ${formatAmount(balance.debitsPending, currency)}, posted ${formatAmount(balance.posted, currency)}`,
      );
    }
    return { text: `Balance of ${owner.label}:\n  ${lines.join('\n  ')}`, data };
  },

  async history({ database, ledger }, options) {
    const owner = await ownerOf(database.db, options);
    const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
    const limit = Number(optionalText(options, 'limit') ?? '20');
    const account = await findAccount(database.db, {
      ownerType: owner.ownerType,
      ownerId: owner.ownerId,
      currency: currency.code,
      purpose: 'wallet',
    });
    if (account === undefined) return { text: `${owner.label} has no ${currency.code} wallet yet.`, data: [] };
    const transfers = await ledger.history(account.id, { limit });
    const body =
      transfers.length === 0
        ? '(no transfers)'
        : transfers.map((transfer) => describeTransfer(transfer, account.id, owner.org.id)).join('\n  ');
    return { text: `Latest ${currency.code} transfers of ${owner.label}, newest first:\n  ${body}`, data: transfers };
  },

  async 'keys create'({ database, keyPepper }, options, actor) {
    const org = await orgOf(database.db, options);
    const email = optionalText(options, 'user');
    const systemOwner = optionalText(options, 'system');
    if ((email === undefined) === (systemOwner === undefined))
      throw new UsageError(
        'Give --user EMAIL (an employee pays) or --system OWNER (a system account pays, e.g. judge), not both.',
      );
    const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
    if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
    const scopes = list(options, 'scopes');
    const unknown = (scopes ?? []).filter((scope) => !(keyScopes as readonly string[]).includes(scope));
    if (unknown.length > 0)
      throw new ValidationError(`Unknown scope(s) ${unknown.join(', ')}: use ${keyScopes.join(', ')}.`);
    const days = optionalCount(options, 'expires-in-days', 3_650);
    const { key, secret } = await createApiKey(database.db, {
      pepper: keyPepper,
      orgId: org.id,
      userId: user?.id ?? null,
      systemOwner: systemOwner ?? null,
      name: optionalText(options, 'name') ?? (email === undefined ? `system ${systemOwner}` : `${email} key`),
      scopes: scopes as KeyScope[] | undefined,
      allowedModels: list(options, 'models') ?? null,
      rpmLimit: optionalCount(options, 'rpm', 1_000_000_000) ?? null,
      tpmLimit: optionalCount(options, 'tpm', 1_000_000_000) ?? null,
      expiresAt: days === undefined ? null : new Date(Date.now() + days * 86_400_000),
      actor,
    });
    const owner = email === undefined ? `system account ${systemOwner} (${org.slug})` : `${email} (${org.slug})`;
    return {
      text: `Created API key ${describeKey(key, owner)}, ${keyStatus(key, new Date())}:${shownOnce(secret)}`,
      data: { key, secret },
    };
  },

  async 'keys list'({ database }, options) {
    const org = await orgOf(database.db, options);
    const email = optionalText(options, 'user');
    const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
    if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
    const keys = await listApiKeys(
      database.db,
      user === undefined ? { orgId: org.id } : { orgId: org.id, userId: user.id },
    );
    const now = new Date();
    const owner = (key: ApiKeyInfo) =>
      key.userId === null
        ? `system ${key.systemOwner}`
        : key.userId === user?.id
          ? (email as string)
          : `user ${key.userId}`;
    const lines = keys.map((key) => `${describeKey(key, owner(key))}  ${keyStatus(key, now)}`);
    return {
      text: `API keys of ${email ?? `org ${org.slug}`}, newest first:\n  ${lines.length === 0 ? '(none)' : lines.join('\n  ')}`,
      data: keys,
    };
  },

  async 'keys revoke'({ database }, options, actor) {
    const startedAt = Date.now();
    if (options.cascade === true) {
      const { key, derivedRevoked } = await revokeApiKeyCascade(database.db, { keyId: text(options, 'id'), actor });
      const derived = `${derivedRevoked.length} key${derivedRevoked.length === 1 ? '' : 's'} created from it`;
      return {
        text: `Revoked API key ${key.id} ("${key.name}") and ${derived}: every gateway refuses them within a second.`,
        data: { key, derivedRevoked },
      };
    }
    const key = await revokeApiKey(database.db, { keyId: text(options, 'id'), actor });
    const revokedAt = new Date(key.revokedAt ?? startedAt);
    if (revokedAt.getTime() < startedAt)
      return {
        text: `API key ${key.id} ("${key.name}") was already revoked at ${revokedAt.toISOString()}.`,
        data: key,
      };
    return { text: `Revoked API key ${key.id} ("${key.name}"): every gateway refuses it within a second.`, data: key };
  },

  async 'keys rotate'({ database, keyPepper }, options, actor) {
    const keyId = text(options, 'id');
    const overlapSeconds =
      optionalText(options, 'overlap-seconds') === '0'
        ? 0
        : (optionalCount(options, 'overlap-seconds', 30 * 86_400) ?? 3_600);
    const { key, secret, replaced } = await rotateApiKey(database.db, {
      pepper: keyPepper,
      keyId,
      overlapSeconds,
      actor,
    });
    const until = new Date(replaced.expiresAt ?? Date.now()).toISOString();
    return {
      text: `Rotated API key ${keyId}: it keeps working until ${until}. Its replacement is ${key.id}:${shownOnce(secret)}`,
      data: { key, secret, replaced },
    };
  },

  async 'prices publish'({ database }, options, actor) {
    const file = text(options, 'file');
    const org = optionalText(options, 'org') === undefined ? undefined : await orgOf(database.db, options);
    const body = await readJsonFile(file, 'price list', priceListFileBytesMax);
    parsePriceList(body);
    const published = await publishPriceList(database.db, { body, actor, orgId: org?.id ?? null });
    const models = Object.keys(published.list.models);
    const whose = org === undefined ? 'price list' : `org ${org.slug}'s own price list`;
    const data = { version: published.version, label: published.list.version, models };
    return {
      text: `Published ${whose} version ${published.version} ("${published.list.version}") from ${file}: models ${models.join(', ')}. Gateways price new requests with it within seconds.`,
      data: org === undefined ? data : { ...data, org: org.slug },
    };
  },

  async 'prices show'({ database }, options) {
    if (optionalText(options, 'org') === undefined) {
      const newest = await loadNewestPriceList(database.db);
      if (newest === undefined)
        throw new NotFoundError(
          'No price list is published yet: publish one with `tokenwise prices publish --file prices.json`.',
        );
      return { text: describePriceList(newest.version, newest.list), data: newest };
    }
    const org = await orgOf(database.db, options);
    const current = await loadEffectivePriceList(database.db, { orgId: org.id });
    if (current === undefined)
      throw new NotFoundError(
        `No price list is published yet: publish one with \`tokenwise prices publish --file prices.json [--org ${org.slug}]\`.`,
      );
    const whose =
      current.orgId === null
        ? `Org ${org.slug} has no price list of its own and pays by the platform default.`
        : `Org ${org.slug} pays by its own price list.`;
    return { text: `${whose} ${describePriceList(current.version, current.list)}`, data: current };
  },

  async 'clusters list'({ database }) {
    const records = await listClusters(database.db);
    const lines = records.map(describeCluster);
    return {
      text: `Clusters the platform routes to:\n  ${lines.length === 0 ? '(none registered yet: a gateway registers its clusters when it starts)' : lines.join('\n  ')}`,
      data: records,
    };
  },

  async 'clusters set-carbon'({ database }, options, actor) {
    const name = text(options, 'cluster');
    const pueText = text(options, 'pue');
    const carbon = {
      region: optionalText(options, 'region'),
      gridIntensityGCo2ePerKwh: decimal(options, 'grid-intensity'),
      pue: pueText === 'default' ? null : decimal(options, 'pue'),
    };
    const record = await setClusterCarbon(database.db, { name, carbon, actor });
    return {
      text: `Set the carbon coefficients of cluster ${name}: ${describeCarbon(record)}. Gateways use them for new requests within seconds; restarts keep them.`,
      data: record,
    };
  },

  async 'clusters add'({ database }, options, actor) {
    const file = text(options, 'file');
    const record = await addCluster(database.db, {
      cluster: await readJsonFile(file, 'cluster', clusterFileBytesMax),
      actor,
    });
    return {
      text: `Added cluster ${record.name} from ${file}; every gateway serves it within seconds:\n  ${describeCluster(record)}`,
      data: record,
    };
  },

  async 'clusters remove'({ database }, options, actor) {
    const record = await removeCluster(database.db, { name: text(options, 'cluster'), actor });
    return { text: `Removed cluster ${record.name}: gateways stop serving it within seconds.`, data: record };
  },

  async 'clusters add-replica'({ database }, options, actor) {
    const name = text(options, 'cluster');
    const replica = { id: text(options, 'replica'), url: text(options, 'url') };
    const record = await addReplica(database.db, { name, replica, actor });
    return {
      text: `Added replica ${replica.id} (${replica.url}) to cluster ${name}; gateways send it requests within seconds.`,
      data: record,
    };
  },

  async 'clusters remove-replica'({ database }, options, actor) {
    const name = text(options, 'cluster');
    const replicaId = text(options, 'replica');
    const record = await removeReplica(database.db, { name, replicaId, actor });
    return { text: `Removed replica ${replicaId} from cluster ${name}.`, data: record };
  },

  async 'clusters disable'({ database }, options, actor) {
    return changeAvailability(database.db, options, actor, true);
  },

  async 'clusters enable'({ database }, options, actor) {
    return changeAvailability(database.db, options, actor, false);
  },

  async usage({ database }, options) {
    const org = await orgOf(database.db, options);
    const email = optionalText(options, 'user');
    const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
    if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
    const limit = optionalCount(options, 'limit', 100) ?? 20;
    const rows = await database.db.query.usageRecords.findMany({
      columns: usageColumns,
      where: (usage, { and, eq }) =>
        user === undefined ? eq(usage.orgId, org.id) : and(eq(usage.orgId, org.id), eq(usage.userId, user.id)),
      orderBy: (usage, { desc }) => [desc(usage.createdAt), desc(usage.requestId)],
      limit,
    });
    const lines = rows.map((row) => {
      const fee = row.feeCurrency === null || row.fee === null ? '' : ` + fee ${money(row.fee, row.feeCurrency)}`;
      return `${row.createdAt.toISOString()}  ${row.requestId}  ${row.model}  ${row.tier}  ${row.promptTokens} in / ${row.completionTokens} out  ${money(row.cost, row.currency)}${fee}  ${grams(row.co2eMicrograms)} gCO2e  ${row.outcome}`;
    });
    const whose = email === undefined ? `org ${org.slug}` : `${email} (${org.slug})`;
    return {
      text: `Latest usage of ${whose}, newest first:\n  ${lines.length === 0 ? '(no usage yet)' : lines.join('\n  ')}`,
      data: rows,
    };
  },

  async reconcile({ database, ledger }, options) {
    const minutes = optionalCount(options, 'older-than-minutes', 30 * 24 * 60) ?? reconcileOlderThanMinutesDefault;
    if (minutes <= requestTimeoutMinutesDefault) {
      throw new ValidationError(
        `--older-than-minutes must exceed the gateway's request timeout (${requestTimeoutMinutesDefault} min): a younger request may still be running.`,
      );
    }
    const olderThan = new Date(Date.now() - minutes * 60_000);
    const listed: AbandonedAdmission[] = [];
    let closed = 0;
    let rounds = 0;
    for (; rounds < reconcileRoundsMax; rounds++) {
      const found = await findAbandonedAdmissions(database.db, { olderThan, limit: reconcileBatchMax });
      if (found.length === 0) break;
      listed.push(...found.slice(0, Math.max(0, reconcileListedMax - listed.length)));
      const closedNow = await closeAbandonedAdmissions(
        { db: database.db, ledger },
        { olderThan, limit: reconcileBatchMax },
      );
      closed += closedNow;
      if (closedNow === 0) break;
    }
    let expired = 0;
    for (let round = 0; round < reconcileRoundsMax; round++) {
      const released = await ledger.expireDue();
      expired += released;
      if (released === 0) break;
    }
    const more = rounds === reconcileRoundsMax ? '\nMore remain: run it again.' : '';
    const shown =
      listed.length === 0
        ? ''
        : `:\n  ${listed.map(describeAbandoned).join('\n  ')}${closed > listed.length ? `\n  ... and ${closed - listed.length} more` : ''}`;
    return {
      text: `Closed ${closed} abandoned request(s) admitted before ${olderThan.toISOString()} (${minutes} min ago), voiding their holds${shown}\nReleased ${expired} lapsed hold(s).${more}`,
      data: { olderThan, closedRequests: closed, closed: listed, expiredHolds: expired },
    };
  },

  async 'ledger verify'({ ledger }) {
    const report = await ledger.verify();
    const summary = `Checked ${report.transfers} transfers in ${report.batches} batches against the HMAC chain and the exported checkpoint.`;
    if (report.ok) return { text: `${summary}\nThe ledger is intact.`, data: report };
    return {
      text: `${summary}\nTAMPERING OR CORRUPTION FOUND:\n  ${report.problems.join('\n  ')}`,
      data: report,
      exitCode: 1,
    };
  },

  async 'ledger seal-accounts'({ ledger }) {
    const result = await ledger.sealAccounts();
    const lines = [
      result.sealed.length === 0
        ? 'Every account was sealed already.'
        : `Sealed ${result.sealed.length} account(s) opened before account MACs, as they stand now:\n  ${result.sealed.join('\n  ')}`,
    ];
    if (result.checkpoint?.written === true) lines.push('Exported the chain head as a sealed checkpoint.');
    else if (result.checkpoint !== undefined)
      lines.push(`The checkpoint was left as it is: ${result.checkpoint.reason}.`);
    if (result.refused.length === 0) return { text: lines.join('\n'), data: result };
    lines.push(
      `REFUSED ${result.refused.length} account(s) whose flags disagree with their purpose (no ledger ever opened such an account: tampered, not legacy):\n  ${result.refused.join('\n  ')}`,
    );
    return { text: lines.join('\n'), data: result, exitCode: 1 };
  },

  async 'scoring set'({ database }, options, actor) {
    const { team, label } = await teamOf(database.db, options);
    const file = text(options, 'file');
    const plugins = await checkScoringPlugins(
      await readJsonFile(file, 'scoring configuration', settlementFileBytesMax),
    );
    const published = await publishScoringConfig(database.db, { teamId: team.id, plugins, actor });
    return {
      text: `Published scoring configuration version ${published.version} for ${label} from ${file}:\n  ${describeScoringPlugins(published.plugins)}\nRequests settled from now on are scored with it.`,
      data: published,
    };
  },

  async 'scoring show'({ database }, options) {
    const { org, team, label } = await teamOf(database.db, options);
    const current = await currentScoringConfig(database.db, { teamId: team.id });
    if (current === undefined)
      throw new NotFoundError(
        `No scoring configuration for ${label} yet: set one with \`tokenwise scoring set --org ${org.slug} --team ${team.slug} --file scoring.json\`.`,
      );
    return {
      text: `Scoring configuration version ${current.version} of ${label}, by ${current.createdBy} at ${current.createdAt.toISOString()}:\n  ${describeScoringPlugins(current.plugins)}`,
      data: current,
    };
  },

  async 'policy set'({ database }, options, actor) {
    const { team, label } = await teamOf(database.db, options);
    const file = text(options, 'file');
    const published = await publishSettlementPolicy(database.db, {
      teamId: team.id,
      body: await readJsonFile(file, 'settlement policy', settlementFileBytesMax),
      actor,
    });
    return {
      text: `Published settlement policy version ${published.version} for ${label} from ${file}:\n  ${describePolicy(published.policy)}\nRequests admitted from now on settle under it.${describeWarnings(published.warnings)}`,
      data: published,
    };
  },

  async 'policy show'({ database }, options) {
    const { org, team, label } = await teamOf(database.db, options);
    const current = await currentSettlementPolicy(database.db, { teamId: team.id });
    if (current === undefined)
      throw new NotFoundError(
        `No settlement policy for ${label} yet: set one with \`tokenwise policy set --org ${org.slug} --team ${team.slug} --file policy.json\`.`,
      );
    return {
      text: `Settlement policy version ${current.version} of ${label}, by ${current.createdBy} at ${current.createdAt.toISOString()}:\n  ${describePolicy(current.policy)}${describeWarnings(current.warnings)}`,
      data: current,
    };
  },

  async 'bounds set'({ database }, options, actor) {
    const org = await orgOf(database.db, options);
    const file = text(options, 'file');
    const stored = await setSettlementBounds(database.db, {
      orgId: org.id,
      body: await readJsonFile(file, 'settlement bounds', settlementFileBytesMax),
      actor,
    });
    return {
      text: `Set the settlement bounds of org ${org.slug} from ${file}: ${describeBounds(stored.bounds)}. No team policy settles beyond them.`,
      data: stored,
    };
  },

  async 'bounds show'({ database }, options) {
    const org = await orgOf(database.db, options);
    const stored = await getSettlementBounds(database.db, { orgId: org.id });
    return {
      text: `Settlement bounds of org ${org.slug} (${boundsOrigin(stored)}): ${describeBounds(stored.bounds)}.`,
      data: stored,
    };
  },
};
