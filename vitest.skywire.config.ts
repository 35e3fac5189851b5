import { defineConfig } from 'vitest/config';

// The real-Skywire tier (make test-skywire): real Skywire processes in network namespaces, one file at a time.
export default defineConfig({
  test: {
    include: ['test/skywire/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // Visors join the hypervisor over dmsg in seconds, but a loaded two-core host stretches that.
    testTimeout: 180_000,
    hookTimeout: 900_000,
  },
});
