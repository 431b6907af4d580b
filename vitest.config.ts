import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Root/netns tests mutate global kernel state; files run one at a time per worker pool.
    fileParallelism: true,
  },
});
