import { defineConfig } from 'vitest/config';

// The SDK warns that Node.js 20 support ends in 2027; the project supports 20.19+ until then.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One set of emulators (fauxqs, DynamoDB Local) for the whole run; each test file
    // creates its own uniquely named queues, tables and buckets on them.
    globalSetup: ['test/support/global-setup.ts'],
    // Every worker: IAM enforcement's run directory, and a test fails when the synthesized
    // template refused one of its calls (test/support/iam/).
    setupFiles: ['test/support/iam/worker-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: keep parallel files few so emulator-backed timing stays realistic.
    maxWorkers: 2,
    // .ci/run reads the counts from here (one file per run: TASKQ_VITEST_RESULTS names another).
    reporters: ['default', ['json', { outputFile: process.env.TASKQ_VITEST_RESULTS ?? '.vitest-results.json' }]],
  },
});
