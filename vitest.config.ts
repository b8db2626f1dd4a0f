import { defineConfig } from 'vitest/config';

// Unit tests sit beside their source and run in parallel; tests under test/ use sockets,
// disks, child processes or an API server and run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['broker-image/src/**/*.test.ts', 'operator/src/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
