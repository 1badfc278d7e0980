import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type SimClusterConfig } from './cluster';
import { faultsSchema } from './faults';

export const usage = `Usage:
  npm run sim -w @tokenwise/vllm-sim -- --config cluster.json
  npx tsx packages/vllm-sim/src/main.ts --model NAME [--replicas N] [--base-port P] [--max-model-len T]
      [--max-num-seqs S] [--scheduling-policy fcfs|priority] [--ttft-ms MS] [--tpot-ms MS] [--seed N]

The config file holds {"models": [{"model": "name", "replicas": 2, "maxNumSeqs": 64, ...}]} with the
options of startVllmSim (latency, outputTokens, schedulingPolicy, faults...). One server per replica,
on loopback; the URLs are printed one per line as "<model> <url>".`;

const modelSchema = z.strictObject({
  model: z.string().min(1),
  root: z.string().optional(),
  replicas: z.number().int().min(1).optional(),
  basePort: z.number().int().min(0).max(65_535).optional(),
  maxModelLen: z.number().int().min(2).optional(),
  maxNumSeqs: z.number().int().min(1).optional(),
  schedulingPolicy: z.enum(['fcfs', 'priority']).optional(),
  preemption: z.boolean().optional(),
  priorityWithoutPolicy: z.enum(['reject', 'ignore']).optional(),
  latency: z
    .strictObject({
      ttftMs: z.number().min(0).optional(),
      prefillMsPerPromptToken: z.number().min(0).optional(),
      tpotMs: z.number().min(0).optional(),
      tpotGrowthPerRunningSeq: z.number().min(0).optional(),
    })
    .optional(),
  outputTokens: z.strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) }).optional(),
  seed: z.number().int().optional(),
  faults: faultsSchema.optional(),
});

const clusterSchema = z.strictObject({ models: z.array(modelSchema).min(1) });

/** Reads the cluster config from `--config FILE` or builds a one-model config from flags. */
export async function parseCliConfig(argv: string[]): Promise<SimClusterConfig> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      model: { type: 'string' },
      replicas: { type: 'string' },
      'base-port': { type: 'string' },
      'max-model-len': { type: 'string' },
      'max-num-seqs': { type: 'string' },
      'scheduling-policy': { type: 'string' },
      'ttft-ms': { type: 'string' },
      'tpot-ms': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) throw new Error(usage);
  if (values.config !== undefined) {
    const raw = JSON.parse(await readFile(values.config, 'utf8')) as unknown;
    const parsed = clusterSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`Invalid cluster config ${values.config}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }
  if (values.model === undefined) throw new Error(`Give --config FILE or --model NAME.\n\n${usage}`);
  const num = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${flag} must be a number, got "${value}".`);
    return parsed;
  };
  const ttftMs = num('ttft-ms', values['ttft-ms']);
  const tpotMs = num('tpot-ms', values['tpot-ms']);
  const model = {
    model: values.model,
    replicas: num('replicas', values.replicas),
    basePort: num('base-port', values['base-port']),
    maxModelLen: num('max-model-len', values['max-model-len']),
    maxNumSeqs: num('max-num-seqs', values['max-num-seqs']),
    schedulingPolicy: values['scheduling-policy'],
    seed: num('seed', values.seed),
    latency: ttftMs === undefined && tpotMs === undefined ? undefined : { ttftMs, tpotMs },
  };
  const parsed = clusterSchema.safeParse({ models: [JSON.parse(JSON.stringify(model))] });
  if (!parsed.success) throw new Error(`Invalid flags: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
