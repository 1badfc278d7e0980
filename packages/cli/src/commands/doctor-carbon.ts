import { listClusters } from '@tokenwise/control';
import { modelsWithAssumedCarbon, type Db } from '@tokenwise/db';

/** How far back `doctor` looks for requests metered without a carbon profile. */
export const assumedCarbonLookbackDays = 7;

/** One line of `tokenwise doctor`. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

const howToAddProfile =
  'add its profile to the cluster\'s configuration (TOKENWISE_CLUSTERS_FILE or `tokenwise clusters add`): "modelProfiles": {"<model>": {"totalParamsBillions": 46.7, "activeParamsBillions": 12.9}} (active = total for a dense model), or the gateway setting modelProfiles';

/**
 * Models whose emissions are assumed: served by a cluster that declares no profile for them, or
 * metered recently with `carbon_assumed` (dense at the price list's weight: a mixture of experts
 * then reads several times too high, and reports and caps with it).
 */
export async function checkCarbonProfiles(db: Db, now: Date = new Date()): Promise<DoctorCheck> {
  const since = new Date(now.getTime() - assumedCarbonLookbackDays * 86_400_000);
  const [clusters, metered] = await Promise.all([listClusters(db), modelsWithAssumedCarbon(db, { since })]);
  const flagged = new Map<string, string>();
  for (const cluster of clusters)
    for (const model of cluster.models)
      if (cluster.modelProfiles?.[model] === undefined)
        flagged.set(`${model}@${cluster.name}`, `${model} (cluster ${cluster.name}, no profile declared)`);
  for (const row of metered) {
    const key = `${row.model}@${row.cluster}`;
    const served = flagged.get(key)?.replace(/\)$/, '') ?? `${row.model} (cluster ${row.cluster}`;
    flagged.set(
      key,
      `${served}, ${row.requests} request(s) metered as assumed in ${assumedCarbonLookbackDays} days, last ${row.lastAt.toISOString()})`,
    );
  }
  if (flagged.size === 0)
    return { name: 'Carbon profiles', status: 'ok', detail: 'every served model declares its parameters' };
  return {
    name: 'Carbon profiles',
    status: 'warn',
    detail: `${flagged.size} model(s) metered as dense at the price list's weight (carbon_assumed): ${[...flagged.values()].join('; ')}. For each, ${howToAddProfile}.`,
  };
}
