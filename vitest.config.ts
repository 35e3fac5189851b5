import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The QEMU tests and the real-Skywire tests have their own runs (make test-hil and make test-box, make
    // test-skywire).
    exclude: ['test/hil/**', 'test/box/**', 'test/skywire/**', 'node_modules/**'],
    // Two cores: keep the pool small so end-to-end runs of the real command are not starved.
    maxWorkers: 2,
    testTimeout: 20_000,
  },
});
