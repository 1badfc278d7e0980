// The gateway as its own process for bench:gateway, so its CPU time and RSS are its own.
import { openDatabase } from '@tokenwise/db';
import { createLedger } from '@tokenwise/ledger';
import { startGateway } from '../src/index';

const config = JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as { databaseUrl: string; pepper: string; ledgerKey: string; clusters: unknown };
const database = await openDatabase({ url: config.databaseUrl, poolSize: 8 });
const ledger = createLedger({ db: database.db, hmacKey: Buffer.from(config.ledgerKey, 'hex') });
const gateway = await startGateway({
  db: database.db,
  ledger,
  keyPepper: Buffer.from(config.pepper, 'hex'),
  clusters: config.clusters as Parameters<typeof startGateway>[0]['clusters'],
  settings: { completionTokensCap: 64 },
  log: (line) => process.stderr.write(`gateway: ${line}\n`),
});
process.send?.({ type: 'ready', url: gateway.url });
let baseline = process.cpuUsage();
process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    baseline = process.cpuUsage();
    process.send?.({ type: 'reset' });
  } else if (message.type === 'stats') {
    const cpu = process.cpuUsage(baseline);
    process.send?.({ type: 'stats', cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss, heapUsedBytes: process.memoryUsage().heapUsed, heapTotalBytes: process.memoryUsage().heapTotal, phases: gateway.metrics.phaseMeansMs(), ledger: ledger.stats() });
  } else if (message.type === 'stop') {
    void (async () => {
      await gateway.close();
      await ledger.close();
      await database.close();
      process.exit(0);
    })();
  }
});
