import { formatModelWeightBillions, NotFoundError, parsePriceList, type PriceList } from '@tokenwise/core';
import { loadEffectivePriceList, loadNewestPriceList, publishPriceList } from '@tokenwise/control';
import type { AdminCommandSpecs } from './admin-command';
import { readJsonFile } from './json-file';
import { orgOf } from './lookups';
import { money } from './money';
import { fileOption, optionalText, text } from './option-values';

/** A price list file is a few hundred models at most; anything larger is the wrong file. */
const priceListFileBytesMax = 1024 * 1024;

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

/** `prices ...`: the versioned price lists requests are charged by. */
export const priceCommands: AdminCommandSpecs = {
  'prices publish': {
    summary: 'publish a price list, validated and stored as the next version: gateways use it within seconds',
    options: [
      fileOption('price list'),
      {
        name: 'org',
        value: 'slug',
        description: "the org's own list; without it, the platform default every org without its own pays by",
      },
    ],
    async run({ database }, options, actor) {
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
  },

  'prices show': {
    summary: 'the platform default price list, or the one the org pays by',
    options: [{ name: 'org', value: 'slug', description: 'the list this org pays by' }],
    async run({ database }, options) {
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
  },
};
