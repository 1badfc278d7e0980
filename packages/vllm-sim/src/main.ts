import { parseCliConfig } from './cli-config';
import { startVllmSimCluster } from './cluster';

// Entry point only: parse, start, print the URLs, stop on a signal.
try {
  const cluster = await startVllmSimCluster(await parseCliConfig(process.argv.slice(2)));
  for (const replica of cluster.replicas) process.stdout.write(`${replica.model} ${replica.url}\n`);
  const stop = (): void => {
    cluster.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
