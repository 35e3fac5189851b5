import { defineConfig } from 'vitest/config';

// The QEMU tests (make test-hil): one machine at a time, since the host has two cores and other work.
export default defineConfig({
  test: {
    include: ['test/hil/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // Generous: Node on armv7 under TCG on a busy two-core host takes a minute or more per start.
    testTimeout: 560_000,
    hookTimeout: 600_000,
  },
});
