import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker (Rust core bridge) crashes inside worker_threads.
    pool: 'forks',
    // One test process reuses its loaded modules across files: per-file setup and imports cost 190 s of
    // the 850 s suite on 2 cores (566 s without). Every file still opens its own databases, servers and
    // workers and closes them in afterAll; TOKENWISE_TEST_ISOLATE=1 brings back a process per file.
    isolate: process.env.TOKENWISE_TEST_ISOLATE === '1',
    include: [
      'packages/*/src/**/*.test.ts',
      'workflows/src/**/*.test.ts',
      'plugins/*/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-file.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
