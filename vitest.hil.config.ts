import { defineConfig } from 'vitest/config';

// The QEMU tests (make test-hil): one machine at a time, since the host has two cores and other work.
export default defineConfig({
  test: {
    include: ['test/hil/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 600_000,
  },
});
