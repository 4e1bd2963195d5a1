/**
 * Runs the local Stripe emulator on its own:
 *
 *   node scripts/stripe-emulator/main.ts [--port 12111] [--host 127.0.0.1]
 *     [--webhook URL --secret whsec_…]... [--connect-webhook URL --connect-secret whsec_…]...
 *     [--retry-base-ms 500] [--max-attempts 8] [--quiet]
 *
 * Each `--webhook` / `--connect-webhook` may be followed by its `--secret` / `--connect-secret`;
 * without one a secret is generated and printed. Point the SDK at it with
 * `new Stripe(key, { host: "127.0.0.1", port: 12111, protocol: "http" })`.
 */
import { parseArgs } from "node:util";
import { DEFAULT_PORT, startStripeEmulator } from "./emulator.ts";
import type { WebhookEndpointConfig } from "./webhooks.ts";

const USAGE = `usage: node scripts/stripe-emulator/main.ts [--port ${DEFAULT_PORT}] [--host 127.0.0.1]
  [--webhook URL [--secret whsec_…]]… [--connect-webhook URL [--connect-secret whsec_…]]…
  [--retry-base-ms 500] [--max-attempts 8] [--quiet]`;

/** Pairs each endpoint flag with the secret flag that follows it, keeping the command's order. */
function endpointsFrom(tokens: Array<{ kind: string; name?: string; value?: string | boolean }>) {
  const endpoints: WebhookEndpointConfig[] = [];
  let last: WebhookEndpointConfig | null = null;
  for (const t of tokens) {
    if (t.kind !== "option" || typeof t.value !== "string") continue;
    if (t.name === "webhook" || t.name === "connect-webhook") {
      last = { url: t.value, connect: t.name === "connect-webhook" };
      endpoints.push(last);
    } else if (t.name === "secret" || t.name === "connect-secret") {
      const wantConnect = t.name === "connect-secret";
      if (!last || last.connect !== wantConnect || last.secret) {
        throw new Error(
          `--${t.name} must follow its --${wantConnect ? "connect-" : ""}webhook URL`,
        );
      }
      last.secret = t.value;
    }
  }
  return endpoints;
}

async function main(): Promise<void> {
  const { values, tokens } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      webhook: { type: "string", multiple: true },
      secret: { type: "string", multiple: true },
      "connect-webhook": { type: "string", multiple: true },
      "connect-secret": { type: "string", multiple: true },
      "retry-base-ms": { type: "string" },
      "max-attempts": { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean" },
    },
    tokens: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const endpoints = endpointsFrom(tokens);
  const log = values.quiet ? () => {} : (m: string) => console.log(`[stripe] ${m}`);
  const emulator = await startStripeEmulator({
    port: values.port ? Number(values.port) : DEFAULT_PORT,
    ...(values.host ? { host: values.host } : {}),
    retry: {
      ...(values["retry-base-ms"] ? { baseDelayMs: Number(values["retry-base-ms"]) } : {}),
      ...(values["max-attempts"] ? { maxAttempts: Number(values["max-attempts"]) } : {}),
    },
    log,
  });
  console.log(
    `[stripe] emulator on ${emulator.url} (test helpers under ${emulator.url}/_emulator)`,
  );
  console.log(`[stripe] STRIPE_API_BASE=${emulator.url} STRIPE_SECRET_KEY=${emulator.secretKey}`);
  for (const e of endpoints) {
    const { secret } = emulator.addWebhookEndpoint(e);
    const shown = e.secret ? "" : ` with generated secret ${secret}`;
    console.log(`[stripe] ${e.connect ? "connect" : "platform"} webhooks → ${e.url}${shown}`);
  }
  const stop = async () => {
    await emulator.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  console.error(USAGE);
  process.exit(1);
});
