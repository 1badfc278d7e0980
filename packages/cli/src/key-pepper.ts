import { ConfigError } from '@tokenwise/core';
import { pepperBytesMin } from '@tokenwise/control';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from './config';

async function readPepper(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pepper = Buffer.from(text, 'hex');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text) || pepper.length < pepperBytesMin) {
    throw new ConfigError(
      `${path} must hold at least ${pepperBytesMin} bytes as hex: restore it from a backup (every API key depends on it), or set TOKENWISE_KEY_PEPPER.`,
    );
  }
  return pepper;
}

/**
 * The API keys' HMAC pepper: from TOKENWISE_KEY_PEPPER, else from `<dataDir>/key-pepper`, created
 * (owner-only) on first use. It is never stored in the database, so a stolen database alone cannot
 * test key guesses. Every gateway replica must use the same pepper, and losing it invalidates every key.
 */
export async function loadKeyPepper(config: Config): Promise<Buffer> {
  if (config.keyPepper !== undefined) return config.keyPepper;
  const existing = await readPepper(config.keyPepperPath);
  if (existing !== undefined) return existing;
  const pepper = randomBytes(32);
  await mkdir(dirname(config.keyPepperPath), { recursive: true, mode: 0o700 });
  // Written whole beside it, then linked into place: a racing reader never sees a half-written file.
  const temporary = `${config.keyPepperPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${pepper.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, config.keyPepperPath);
    return pepper;
  } catch (error) {
    // Another process created it first: use theirs, so both agree.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readPepper(config.keyPepperPath);
    if (theirs === undefined)
      throw new ConfigError(`${config.keyPepperPath} vanished while it was being created; run the command again.`);
    return theirs;
  } finally {
    await rm(temporary, { force: true });
  }
}
