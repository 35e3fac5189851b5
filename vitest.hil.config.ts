import { defineConfig } from 'vitest/config';

// The QEMU tier (make test-hil): the real drivers on Debian's kernels (test/hil) and the whole box booted from the
// image (test/box), one file at a time, since the host has two cores and other work.
export default defineConfig({
  test: {
    include: ['test/hil/**/*.test.ts', 'test/box/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // Generous: Node on armv7 under TCG on a busy two-core host takes a minute or more per start.
    testTimeout: 560_000,
    hookTimeout: 600_000,
  },
});
