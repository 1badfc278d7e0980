#!/usr/bin/env node
// What `npm start` and `npm test` run first, on a machine that may have nothing installed yet.
// Plain JavaScript with no dependencies: it must work before `npm ci` has run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [mode, ...rest] = process.argv.slice(2);
const nodeVersionMin = [20, 19];

function fail(message) {
  process.stderr.write(`tokenwise: ${message}\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  return result.status ?? 1;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < nodeVersionMin[0] || (major === nodeVersionMin[0] && minor < nodeVersionMin[1])) {
  fail(`Node.js ${nodeVersionMin.join('.')} or newer is required; this is ${process.versions.node}.`);
}

// npm writes node_modules/.package-lock.json on every install: older than the lockfile means stale.
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write('Installing dependencies (npm ci)...\n');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) fail('npm ci failed; see above.');
}

/** Runs the long-lived child; Ctrl-C reaches it through the terminal, so we wait for it to finish. */
function handOver(args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const cli = join(root, 'packages', 'cli', 'bin', 'tokenwise.mjs');
if (mode === 'start') {
  handOver([cli, 'dev', ...rest]);
} else if (mode === 'test') {
  if (run(process.execPath, [cli, 'provision', '--for-tests']) !== 0)
    fail('Provisioning for the tests failed; see above.');
  handOver([join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...rest]);
} else {
  fail(`Unknown mode "${mode}": use start or test.`);
}
