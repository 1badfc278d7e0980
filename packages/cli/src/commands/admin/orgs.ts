import { currencyByCode, formatAmount, parseAmount, ValidationError } from '@tokenwise/core';
import { createOrg, setCarbonAwareRouting, setGrantBounds, setPlatformOrg, type Db, type Org } from '@tokenwise/db';
import { createIssuanceMeter, type Ledger } from '@tokenwise/ledger';
import type { AdminCommandSpecs, CommandOutput } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { currencyOption, optionalText, text } from './option-values';

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

/** `org ...`: create an org, choose the platform org, bound what an org may issue, switch carbon-aware routing. */
export const orgCommands: AdminCommandSpecs = {
  'org create': {
    summary: 'create an org',
    options: [
      {
        name: 'slug',
        value: 'slug',
        required: true,
        description: "the org's slug, which every other command names it by",
      },
      { name: 'name', value: 'name', required: true, description: 'its display name' },
      {
        name: 'time-zone',
        value: 'zone',
        description: 'its IANA time zone, for monthly allowances and issuance (default UTC)',
      },
    ],
    async run({ database }, options, actor) {
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
  },

  'org set-platform': {
    summary: 'make it the one org whose admins may change clusters through the API',
    options: [orgOption],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      const { previousOrgId } = await setPlatformOrg(database.db, { orgId: org.id, actor });
      const previous = previousOrgId === null || previousOrgId === org.id ? '' : ` (it replaces org ${previousOrgId})`;
      return {
        text: `Org ${org.slug} is the platform org${previous}: its admins may change clusters through the API.`,
        data: { orgId: org.id, previousOrgId },
      };
    },
  },

  'org set-carbon-routing': {
    summary: "whether the org's low and normal priority requests prefer the cleanest cluster serving their model",
    options: [
      orgOption,
      { name: 'on', description: 'prefer the cleanest healthy cluster with a free slot (the default)' },
      { name: 'off', description: 'send every request to the least loaded cluster' },
    ],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      if ((options.on === true) === (options.off === true))
        throw new ValidationError('Give exactly one of --on or --off.');
      const { enabled, previous } = await setCarbonAwareRouting(database.db, {
        orgId: org.id,
        enabled: options.on === true,
        actor,
      });
      const rule = enabled
        ? 'its low and normal priority requests prefer the cleanest cluster serving their model'
        : 'every request goes to the least loaded cluster serving its model';
      const change = enabled === previous ? 'unchanged' : 'gateways apply it within a second';
      return {
        text: `Carbon-aware routing of org ${org.slug} is ${enabled ? 'on' : 'off'} (${change}): ${rule}.`,
        data: { orgId: org.id, enabled, previous },
      };
    },
  },

  'org set-grant-bounds': {
    summary: "set the most one grant and one month of the org's issuance may be, in its time zone (operators only)",
    options: [
      orgOption,
      { name: 'per-grant', value: 'amount', required: true, description: 'the most one grant may be, e.g. 1000' },
      {
        name: 'per-month',
        value: 'amount',
        required: true,
        description: 'the most the org may issue in a month, e.g. 100000',
      },
      currencyOption,
    ],
    async run({ database, ledger }, options, actor) {
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
  },

  'org grant-bounds': {
    summary: "the org's grant bounds, and what it issued and has left this month",
    options: [orgOption, currencyOption],
    async run({ database, ledger }, options) {
      const org = await orgOf(database.db, options);
      return describeIssuance(
        database.db,
        ledger,
        org,
        currencyByCode(optionalText(options, 'currency') ?? 'innovation').code,
      );
    },
  },
};
