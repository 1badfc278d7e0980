import { readFile, rename, writeFile } from 'node:fs/promises';

/** The chain head as exported outside the database: a superuser who rewrites the chain cannot match it. */
export interface Checkpoint {
  batchSeq: string;
  mac: string;
  lastTransferSeq: string;
  at: string;
}

/** Writes the checkpoint atomically (temp file, then rename), readable only by its owner. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** The last exported checkpoint, or undefined when none was written yet. */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<Checkpoint>;
  if (typeof parsed.batchSeq !== 'string' || typeof parsed.mac !== 'string' || typeof parsed.lastTransferSeq !== 'string') {
    throw new Error(`Checkpoint file ${path} is malformed.`);
  }
  return parsed as Checkpoint;
}
