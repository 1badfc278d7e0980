import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker (Rust core bridge) crashes inside worker_threads.
    pool: 'forks',
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
