import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file gets its own database; two at a time suits these 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
