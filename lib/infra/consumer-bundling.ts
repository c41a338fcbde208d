/**
 * How the consumer Lambda is bundled — one constant, used by the NodejsFunction
 * (consumer-function.ts) and by the cold-start benchmark (bench/lib/coldstart.ts), so the
 * benchmark measures what deploys. Plain data: no CDK import, so the bench can load it cheaply.
 *
 * What is in the bundle and what is not:
 * - Bundled, minified, pinned to the tested version: our runtime and the hot path's SDK —
 *   `@aws-sdk/client-dynamodb` with its `@smithy/*` core, signer, HTTP handler and the
 *   environment-variable credential provider (how Lambda hands a function its role's credentials).
 * - Not bundled (`externalModules`): modules the runtime reaches only through `import()` on
 *   rare paths, resolved on Lambda from the AWS SDK v3 that the nodejs22.x and nodejs24.x
 *   runtimes ship (ES module imports of it are supported since nodejs18.x; CDK's own default
 *   for those runtimes externalizes all of `@aws-sdk/*` the same way):
 *   - `@aws-sdk/client-sqs`, `@aws-sdk/client-s3` — retries, re-delays and dead-lettering
 *     (SendMessage, ChangeMessageVisibilityBatch) and claim checks (GetObject, DeleteObjects);
 *     long-stable commands, present in every SDK v3 a supported runtime ships;
 *   - the default credential chain's other providers (SSO, ini files, credential_process,
 *     web identity, container/instance metadata) and, through them, the STS/SSO clients
 *     (`@aws-sdk/nested-clients`): the chain loads each with `import()` only when the ones
 *     before it found nothing, and on Lambda the first one — environment variables — always
 *     answers. A consumer given AWS_PROFILE in its environment would load them from the runtime.
 *   Bundled, each of these is parsed at every cold start though never run: 604 → 241 KiB.
 */
export const CONSUMER_BUNDLING = {
  minify: true,
  sourcesContent: false,
  format: 'esm',
  mainFields: ['module', 'main'],
  /** ESM output needs `require` for the CommonJS modules esbuild bundles (parts of the AWS SDK). */
  banner: "import { createRequire as __taskqCreateRequire } from 'node:module'; const require = __taskqCreateRequire(import.meta.url);",
  externalModules: [
    '@aws-sdk/client-sqs',
    '@aws-sdk/client-s3',
    '@aws-sdk/credential-provider-sso',
    '@aws-sdk/credential-provider-ini',
    '@aws-sdk/credential-provider-process',
    '@aws-sdk/credential-provider-web-identity',
    '@aws-sdk/credential-provider-http',
    '@smithy/credential-provider-imds',
  ],
} as const;
