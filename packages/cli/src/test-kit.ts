import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `tokenwise` command as an operator runs it (tests spawn it as a child process). */
export const tokenwiseBin = fileURLToPath(new URL('../bin/tokenwise.mjs', import.meta.url));

/** Runs `tokenwise args...` to its end, with `env` over this process's environment; resolves with its exit code and output. */
export function runTokenwise(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tokenwiseBin, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
