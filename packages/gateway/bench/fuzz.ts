// `npm run fuzz`: a longer fuzz campaign of the request path than the suite's (FUZZ_CASES cases,
// FUZZ_SEED, FUZZ_CONCURRENCY, FUZZ_SECONDS), against the gateway and vllm-sim on a throwaway
// PostgreSQL server. Prints cases run, answers by status and every failure found; exits 1 on any.
import { startPostgresServer } from '@tokenwise/devtools';
import { openDatabase } from '@tokenwise/db';
import { runInferenceFuzz } from '../src/fuzz/inference-fuzz';
import { startGatewayWorld } from '../src/test-kit';

const numberFrom = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number of at least 1, got ${raw}.`);
  return value;
};

async function main(): Promise<void> {
  const seed = numberFrom('FUZZ_SEED', Date.now() % 2 ** 31);
  const cases = numberFrom('FUZZ_CASES', 20_000);
  const concurrency = numberFrom('FUZZ_CONCURRENCY', 16);
  const seconds = numberFrom('FUZZ_SECONDS', 600);
  const server = await startPostgresServer();
  try {
    const database = await openDatabase({ url: server.url, poolSize: 8 });
    await database.migrate();
    const world = await startGatewayWorld(database, {
      replicas: 2,
      sim: { latency: { ttftMs: 1, tpotMs: 1 }, outputTokens: { min: 1, max: 16 } },
    });
    const startedAt = Date.now();
    process.stdout.write(`fuzz: seed ${seed}, up to ${cases} cases, ${concurrency} at once, at most ${seconds} s\n`);
    const report = await runInferenceFuzz(world, database, {
      seed,
      cases,
      concurrency,
      durationMsMax: seconds * 1000,
      invariantsEvery: 500,
      log: (line) => process.stdout.write(`fuzz: ${line}\n`),
    });
    await world.close();
    await database.close();
    const elapsed = (Date.now() - startedAt) / 1000;
    process.stdout.write(
      `fuzz: ${report.casesRun} cases in ${elapsed.toFixed(1)} s (${(report.casesRun / elapsed).toFixed(0)}/s), neighbour requests ${report.neighbourRequests}\n`,
    );
    process.stdout.write(`fuzz: answers by status ${JSON.stringify(report.statuses)}\n`);
    process.stdout.write(`fuzz: ${report.failures.length} failures found (replay with FUZZ_SEED=${seed})\n`);
    for (const failure of report.failures) process.stdout.write(`  - ${failure}\n`);
    process.exitCode = report.failures.length > 0 ? 1 : 0;
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
