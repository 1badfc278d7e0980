// What the worker talks to, in its own process for bench:settlement, as in production: the
// gateway (with its own ledger writer) in front of two vllm-sims (the application model and the judge).
import { openDatabase } from '@tokenwise/db';
import { startGateway } from '@tokenwise/gateway';
import { createLedger } from '@tokenwise/ledger';
import { startVllmSim } from '@tokenwise/vllm-sim';

const config = JSON.parse(process.env.BENCH_SERVICES_CONFIG ?? '{}') as {
  databaseUrl: string;
  pepper: string;
  ledgerKey: string;
};
const database = await openDatabase({ url: config.databaseUrl, poolSize: 8 });
const ledger = createLedger({ db: database.db, hmacKey: Buffer.from(config.ledgerKey, 'hex') });
const sim = await startVllmSim({
  model: 'bench-app',
  maxNumSeqs: 512,
  latency: { ttftMs: 20, tpotMs: 1 },
  outputTokens: { min: 32, max: 32 },
});
const judgeSim = await startVllmSim({
  model: 'bench-judge',
  maxNumSeqs: 512,
  latency: { ttftMs: 20, tpotMs: 1 },
  outputTokens: { min: 16, max: 16 },
});
const cluster = (name: string, url: string) => ({
  name,
  models: [name],
  replicas: [{ id: `${name}-0`, url }],
  maxConcurrencyPerReplica: 512,
  priorityScheduling: false,
  queueDepthMax: 10_000,
  queueWaitMsMax: 60_000,
  region: 'eu',
  gridIntensityGCo2ePerKwh: 300,
});
const gateway = await startGateway({
  db: database.db,
  ledger,
  keyPepper: Buffer.from(config.pepper, 'hex'),
  clusters: [cluster('bench-app', sim.url), cluster('bench-judge', judgeSim.url)],
  log: () => {},
});
process.send?.({ type: 'ready', url: gateway.url });
process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  void (async () => {
    await gateway.close();
    await Promise.all([sim.close(), judgeSim.close()]);
    await ledger.close();
    await database.close();
    process.exit(0);
  })();
});
