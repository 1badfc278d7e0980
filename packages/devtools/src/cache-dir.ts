import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where provisioned binaries live. Shared across clones (and so across CI runs on one machine)
 * because every binary is pinned and verified by sha256 before it is used the first time.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOKENWISE_CACHE_DIR) return env.TOKENWISE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tokenwise');
}
