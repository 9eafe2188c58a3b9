import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files start their own servers and child processes; two workers match the two cores
    // of the machines this runs on without starving the servers under test.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
