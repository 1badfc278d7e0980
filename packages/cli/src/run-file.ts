import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a running platform publishes for the CLI: where its services are. */
export interface RunInfo {
  pid: number;
  startedAt: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string | undefined;
  database: string;
  /** Loopback endpoint where the CLI runs database commands (PGlite serves one process). */
  control?: { url: string; token: string };
}

const runFileName = 'run.json';

export async function writeRunInfo(dataDir: string, info: RunInfo): Promise<void> {
  await writeFile(join(dataDir, runFileName), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export async function removeRunInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, runFileName), { force: true });
}

/** The running platform's info, or undefined when none runs (a stale file is ignored). */
export async function readRunInfo(dataDir: string): Promise<RunInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dataDir, runFileName), 'utf8')) as RunInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
