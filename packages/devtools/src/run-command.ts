import { spawn, type SpawnOptions } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Output kept per stream: enough for a diagnosis, bounded so a chatty tool cannot fill memory. */
const outputBytesMax = 1024 * 1024;

/** Runs a command to completion, capturing bounded output; never throws for a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { echo?: boolean } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      if (options.echo) process.stderr.write(chunk);
      if (stdout.length < outputBytesMax) stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (options.echo) process.stderr.write(chunk);
      if (stderr.length < outputBytesMax) stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Finds an executable on PATH, like `command -v`. */
export async function which(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const result = await runCommand('/bin/sh', ['-c', `command -v "$1"`, 'sh', name], { env });
  const path = result.stdout.trim();
  return result.code === 0 && path.startsWith('/') ? path : undefined;
}
