import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The QEMU tests have their own run (vitest.hil.config.ts, make test-hil).
    exclude: ['test/hil/**', 'node_modules/**'],
    // Two cores: keep the pool small so end-to-end runs of the real command are not starved.
    maxWorkers: 2,
    testTimeout: 20_000,
  },
});
