import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Vitest's default on 2 cores is ONE worker; most slow files wait on child processes (CLI,
    // servers, llama.cpp), so two workers roughly halve the wall time.
    maxWorkers: 2,
  },
})
