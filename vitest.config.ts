import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { copyDocsAssets } from "./scripts/docs-assets.ts";
import { consoleProject } from "./tests/console/project.ts";

// The test Worker serves public/ as its static assets (wrangler.toml); /docs needs its viewer
// there, and wrangler's [build] step does not run under the vitest plugin.
await copyDocsAssets();

export default defineConfig({
  plugins: [
    // The stack (tests/global-setup.ts) runs in Node; its addresses reach the Worker as bindings.
    cloudflareTest(({ inject }) => {
      const redisRestUrl = inject("redisRestUrl");
      const neonLocalWsProxy = inject("neonLocalWsProxy");
      const neonLocalHttp = inject("neonLocalHttp");
      return {
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            DATABASE_URL: inject("databaseUrl"),
            ...(neonLocalWsProxy ? { NEON_LOCAL_WS_PROXY: neonLocalWsProxy } : {}),
            ...(neonLocalHttp ? { NEON_LOCAL_HTTP: neonLocalHttp } : {}),
            // Omitted when no Redis answered: the Worker then runs with limits and cache off.
            ...(redisRestUrl
              ? {
                  UPSTASH_REDIS_REST_URL: redisRestUrl,
                  UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken"),
                }
              : {}),
            JWT_SECRET: "test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
            PASSWORD_PEPPER: "test-pepper-0123456789abcdef",
            // Production's ceiling: tests run at the real cost so a slower hash shows up here.
            PBKDF2_ITERATIONS: "100000",
            // A whole suite racing on two cores is slow, not an attack: don't fail auth closed.
            RATE_LIMIT_TIMEOUT_MS: "10000",
            // The local Stripe emulator (tests/global-setup.ts): the real SDK is pointed at it.
            STRIPE_API_BASE: inject("stripeApiUrl"),
            STRIPE_SECRET_KEY: inject("stripeSecretKey"),
            STRIPE_WEBHOOK_SECRET: inject("stripeWebhookSecret"),
            STRIPE_CONNECT_WEBHOOK_SECRET: inject("stripeConnectWebhookSecret"),
            // The local OCR service (scripts/stack/ocr.ts): receipts are read for real, offline.
            OCR_PROVIDER_URL: inject("ocrProviderUrl"),
          },
        },
      };
    }),
  ],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A queue consumer or alarm still logging when its file's workerd closes loses that log line
    // ("Closing rpc while onUserConsoleLog was pending"); every test of the file has finished by
    // then, so only that teardown race is ignored. Any other unhandled error still fails the run.
    onUnhandledError: (error) =>
      !(
        error.name === "EnvironmentTeardownError" &&
        /Closing rpc while "onUserConsoleLog" was pending/.test(error.message)
      ),
    projects: [
      // Everything above, in workerd: every test but the console's browser tests. The stack's
      // setup is the project's, not the root's: a root globalSetup runs once more on its own.
      {
        extends: true,
        test: {
          name: "worker",
          globalSetup: ["./tests/global-setup.ts"],
          exclude: [...configDefaults.exclude, "tests/console/**"],
        },
      },
      consoleProject,
    ],
  },
});
