import type { Db } from '@tokenwise/db';
import {
  addCluster,
  addReplica,
  listClusters,
  removeCluster,
  removeReplica,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
  type ClusterRecord,
} from '@tokenwise/control';
import type { OptionSpec } from '../../command-spec';
import type { AdminCommandSpecs, CommandOptions, CommandOutput } from './admin-command';
import { readJsonFile } from './json-file';
import { decimal, fileOption, optionalText, text } from './option-values';

/** One cluster's JSON: 64 replicas and 64 models at most. */
const clusterFileBytesMax = 64 * 1024;

const clusterOption: OptionSpec = { name: 'cluster', value: 'name', required: true, description: 'the cluster' };
const replicaOption: OptionSpec = { name: 'replica', value: 'id', description: 'only this replica of it' };

function describeCarbon(record: ClusterRecord): string {
  const pue = record.pue === null ? 'default PUE' : `PUE ${record.pue}`;
  const source =
    record.carbonSetBy === null
      ? 'from the startup configuration'
      : `set by ${record.carbonSetBy} at ${record.carbonSetAt?.toISOString()}`;
  const from = record.gridIntensitySource === null ? 'source not recorded' : record.gridIntensitySource;
  const market =
    record.marketGridIntensityGCo2ePerKwh === null
      ? 'no market-based factor'
      : `market-based ${record.marketGridIntensityGCo2ePerKwh} gCO2e/kWh`;
  const scopes =
    record.ownership === 'owned' ? 'owned: electricity Scope 2, hardware Scope 3 cat. 2' : 'rented: Scope 3 cat. 1';
  return `region ${record.region}, ${record.gridIntensityGCo2ePerKwh} gCO2e/kWh location-based (${from}), ${market}, ${pue}, ${scopes} (${source})`;
}

/** `--market` and `--source`: left out keeps the current value, `none` clears it. */
function clearable<T>(options: CommandOptions, name: string, read: () => T): T | null | undefined {
  const value = optionalText(options, name);
  if (value === undefined) return undefined;
  return value === 'none' ? null : read();
}

function describeCluster(record: ClusterRecord): string {
  const off = (id: string) => (record.disabledReplicas.includes(id) ? ' DISABLED,' : '');
  const replicas = record.replicas.map((replica) => {
    const health = record.health?.[replica.id];
    return `${replica.id} ${replica.url}${off(replica.id)} ${health === undefined ? 'health unknown' : health.healthy ? `healthy, circuit ${health.circuit}` : `unhealthy, circuit ${health.circuit}`}`;
  });
  const scheduling = record.priorityScheduling ? 'priority scheduling' : 'FCFS scheduling';
  const state = record.disabledAt === null ? '' : ` DISABLED since ${record.disabledAt.toISOString()}`;
  const models = record.models.map((model) => {
    const profile = record.modelProfiles?.[model];
    if (profile === undefined) return `${model} (no carbon profile: metered as dense at its price list weight)`;
    return profile.activeParamsBillions === profile.totalParamsBillions
      ? `${model} (${profile.totalParamsBillions}B)`
      : `${model} (${profile.totalParamsBillions}B, ${profile.activeParamsBillions}B active)`;
  });
  return `${record.name} v${record.version}${state}: models ${models.join(', ')}; ${scheduling}, ${record.maxConcurrencyPerReplica} per replica; ${describeCarbon(record)}\n    ${replicas.join('\n    ')}`;
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

/** `clusters ...`: the registry of inference clusters every gateway routes to. */
export const clusterCommands: AdminCommandSpecs = {
  'clusters list': {
    summary:
      'every cluster: models, replicas with health, region, gCO2e/kWh (location and market), PUE, ownership, state',
    options: [],
    async run({ database }) {
      const records = await listClusters(database.db);
      const lines = records.map(describeCluster);
      return {
        text: `Clusters the platform routes to:\n  ${lines.length === 0 ? '(none registered yet: a gateway registers its clusters when it starts)' : lines.join('\n  ')}`,
        data: records,
      };
    },
  },

  'clusters set-carbon': {
    summary: "set a cluster's carbon coefficients, kept over the startup configuration",
    options: [
      clusterOption,
      { name: 'grid-intensity', value: 'gCO2e/kWh', required: true, description: 'grid carbon intensity, e.g. 250' },
      { name: 'pue', value: 'pue', required: true, description: 'power usage effectiveness, e.g. 1.15, or default' },
      { name: 'region', value: 'region', description: 'where it runs' },
      {
        name: 'source',
        value: 'text',
        description: 'where the grid intensity comes from, e.g. "Ember 2024, DE annual average", or none',
      },
      {
        name: 'market',
        value: 'gCO2e/kWh',
        description: 'market-based factor (PPAs, certificates) reported next to it, or none',
      },
      {
        name: 'ownership',
        value: 'owned|rented',
        description: 'owned: Scope 2 (+ Scope 3 cat. 2 hardware); rented: Scope 3 cat. 1',
      },
    ],
    async run({ database }, options, actor) {
      const name = text(options, 'cluster');
      const pueText = text(options, 'pue');
      const ownership = optionalText(options, 'ownership');
      const carbon = {
        region: optionalText(options, 'region'),
        gridIntensityGCo2ePerKwh: decimal(options, 'grid-intensity'),
        pue: pueText === 'default' ? null : decimal(options, 'pue'),
        gridIntensitySource: clearable(options, 'source', () => text(options, 'source')),
        marketGridIntensityGCo2ePerKwh: clearable(options, 'market', () => decimal(options, 'market')),
        // Validated (owned | rented) by setClusterCarbon, which names the field.
        ownership: ownership as 'owned' | 'rented' | undefined,
      };
      const record = await setClusterCarbon(database.db, { name, carbon, actor });
      return {
        text: `Set the carbon coefficients of cluster ${name}: ${describeCarbon(record)}. Gateways use them for new requests within seconds; restarts keep them.`,
        data: record,
      };
    },
  },

  'clusters add': {
    summary: 'add a cluster from its JSON: every gateway serves it within seconds',
    options: [fileOption('cluster')],
    async run({ database }, options, actor) {
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
  },

  'clusters remove': {
    summary: 'remove a disabled cluster: gateways stop serving it within seconds',
    options: [clusterOption],
    async run({ database }, options, actor) {
      const record = await removeCluster(database.db, { name: text(options, 'cluster'), actor });
      return { text: `Removed cluster ${record.name}: gateways stop serving it within seconds.`, data: record };
    },
  },

  'clusters add-replica': {
    summary: 'add a replica to a cluster added through the API',
    options: [
      clusterOption,
      { name: 'replica', value: 'id', required: true, description: 'the replica id' },
      { name: 'url', value: 'url', required: true, description: 'its vLLM base URL' },
    ],
    async run({ database }, options, actor) {
      const name = text(options, 'cluster');
      const replica = { id: text(options, 'replica'), url: text(options, 'url') };
      const record = await addReplica(database.db, { name, replica, actor });
      return {
        text: `Added replica ${replica.id} (${replica.url}) to cluster ${name}; gateways send it requests within seconds.`,
        data: record,
      };
    },
  },

  'clusters remove-replica': {
    summary: 'remove a replica from a cluster added through the API',
    options: [clusterOption, { name: 'replica', value: 'id', required: true, description: 'the replica id' }],
    async run({ database }, options, actor) {
      const name = text(options, 'cluster');
      const replicaId = text(options, 'replica');
      const record = await removeReplica(database.db, { name, replicaId, actor });
      return { text: `Removed replica ${replicaId} from cluster ${name}.`, data: record };
    },
  },

  'clusters disable': {
    summary: 'no new requests for a cluster, or one replica of it, within seconds (`clusters enable` undoes)',
    options: [clusterOption, replicaOption],
    async run({ database }, options, actor) {
      return changeAvailability(database.db, options, actor, true);
    },
  },

  'clusters enable': {
    summary: 'new requests again for a disabled cluster, or replica',
    options: [clusterOption, replicaOption],
    async run({ database }, options, actor) {
      return changeAvailability(database.db, options, actor, false);
    },
  },
};
