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

/** Runs `main(args)` in this process (no child, no database unless the command needs one); captures what it writes. */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('./main');
  let stdout = '';
  let stderr = '';
  const capture = (stream: NodeJS.WriteStream, append: (text: string) => void) => {
    const write = stream.write;
    stream.write = ((chunk: string | Uint8Array) => {
      append(chunk.toString());
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  };
  const restoreOut = capture(process.stdout, (text) => (stdout += text));
  const restoreErr = capture(process.stderr, (text) => (stderr += text));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    restoreOut();
    restoreErr();
  }
}
