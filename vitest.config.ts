import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS and ESM builds without an exports map. Node loads the CommonJS
    // build for every importer, but Vite would pick the ESM one for our files. Two copies of
    // graphql reject each other's schema objects, so tests use the build that Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files start their own servers and child processes. Two workers keep both cores busy
    // without starving the servers under test.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
