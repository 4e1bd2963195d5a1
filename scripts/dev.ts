/**
 * `npm run dev`: the whole system on one machine. Starts the local stack (Postgres or embedded
 * PGlite, migrations, the Neon WebSocket bridge and HTTP endpoint, the Upstash REST bridge when
 * Redis answers), the Stripe emulator when no STRIPE_SECRET_KEY is set (delivering signed
 * webhooks to the Worker's two endpoints), then `wrangler dev` on :8787 with their addresses as
 * vars. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { errorMessage } from "../src/lib/error-message.ts";
import { type Stack, startStack } from "./stack/stack.ts";
import {
  DEFAULT_PORT,
  type StripeEmulator,
  startStripeEmulator,
} from "./stripe-emulator/emulator.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = path.join(ROOT, ".dev.vars");
const DEV_VARS_EXAMPLE = path.join(ROOT, ".dev.vars.example");
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const PORT = 8787;
/** How long wrangler gets to shut workerd down before it is killed. */
const STOP_GRACE_MS = 10_000;

const log = (msg: string) => console.log(`[stack] ${msg}`);

/** A newcomer never writes a secret by hand: the first run makes .dev.vars with fresh ones. */
async function ensureDevVars(): Promise<void> {
  if (existsSync(DEV_VARS)) return;
  const template = await readFile(DEV_VARS_EXAMPLE, "utf8");
  const filled = template
    .replace(/^JWT_SECRET=$/m, `JWT_SECRET=${randomBytes(32).toString("base64url")}`)
    .replace(/^PASSWORD_PEPPER=$/m, `PASSWORD_PEPPER=${randomBytes(24).toString("base64url")}`);
  await writeFile(DEV_VARS, filled, { mode: 0o600 });
  log("created .dev.vars with fresh JWT_SECRET and PASSWORD_PEPPER");
}

/** The stack's inputs: .dev.vars first, the shell's environment over it. */
async function stackEnv(): Promise<Record<string, string | undefined>> {
  const fromFile = parseEnv(await readFile(DEV_VARS, "utf8"));
  return { ...fromFile, ...process.env };
}

interface LocalStripe {
  emulator: StripeEmulator;
  /** What the Worker needs to use it: the SDK's base URL and the two signing secrets. */
  vars: Record<string, string>;
}

/**
 * The Stripe emulator on :12111 (STRIPE_EMULATOR_PORT), unless a real STRIPE_SECRET_KEY is set.
 * It signs webhooks with the secrets from .dev.vars when given, fresh ones otherwise, and the
 * Worker gets the same ones, so its signature check passes exactly as against Stripe.
 */
async function startLocalStripe(
  env: Record<string, string | undefined>,
): Promise<LocalStripe | null> {
  if (env.STRIPE_SECRET_KEY) {
    log("STRIPE_SECRET_KEY is set: using Stripe itself, not the emulator");
    return null;
  }
  const secret = () => `whsec_${randomBytes(24).toString("hex")}`;
  const platformSecret = env.STRIPE_WEBHOOK_SECRET || secret();
  const connectSecret = env.STRIPE_CONNECT_WEBHOOK_SECRET || secret();
  const emulator = await startStripeEmulator({
    port: Number(env.STRIPE_EMULATOR_PORT || DEFAULT_PORT),
    log: (m) => console.log(`[stripe] ${m}`),
  });
  const endpoint = `http://127.0.0.1:${PORT}/v1/webhooks/stripe`;
  // Events raised before wrangler listens are retried with backoff until it does.
  emulator.addWebhookEndpoint({ url: endpoint, secret: platformSecret, connect: false });
  emulator.addWebhookEndpoint({ url: `${endpoint}/connect`, secret: connectSecret, connect: true });
  log(`Stripe emulator on ${emulator.url}; webhooks → ${endpoint} and ${endpoint}/connect`);
  return {
    emulator,
    vars: {
      STRIPE_API_BASE: emulator.url,
      STRIPE_WEBHOOK_SECRET: platformSecret,
      STRIPE_CONNECT_WEBHOOK_SECRET: connectSecret,
    },
  };
}

function wranglerArgs(stack: Stack, stripe: LocalStripe | null): string[] {
  const vars: Record<string, string> = {
    ENVIRONMENT: "development",
    DATABASE_URL: stack.databaseUrl,
    OCR_PROVIDER_URL: stack.ocrUrl,
    ...stripe?.vars,
  };
  if (stack.neonLocalWsProxy) vars.NEON_LOCAL_WS_PROXY = stack.neonLocalWsProxy;
  if (stack.neonLocalHttp) vars.NEON_LOCAL_HTTP = stack.neonLocalHttp;
  if (stack.redisRest) {
    vars.UPSTASH_REDIS_REST_URL = stack.redisRest.url;
    vars.UPSTASH_REDIS_REST_TOKEN = stack.redisRest.token;
  }
  // wrangler splits `--var` at the first colon only, so URLs with ports pass through intact.
  const varArgs = Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
  return ["dev", "--port", String(PORT), "--test-scheduled", "--local", ...varArgs];
}

function waitForExit(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? 1);
  }
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  let starting: Promise<Stack> | null = null;
  let startingStripe: Promise<LocalStripe | null> | null = null;
  let wrangler: ChildProcess | null = null;
  let shuttingDown = false;

  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${reason}: stopping`);
    if (wrangler && wrangler.exitCode === null && wrangler.signalCode === null) {
      const child = wrangler;
      const exited = waitForExit(child);
      // A Ctrl-C in the terminal reaches wrangler too; a `kill` aimed at us does not.
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    const stripe = await startingStripe?.catch(() => null);
    await stripe?.emulator.stop();
    // During start-up, wait for the stack so what it opened gets closed.
    const stack = await starting?.catch(() => null);
    await stack?.stop();
    log("stopped");
    process.exit(code);
  };
  // Registered before anything starts, so a Ctrl-C during start-up still closes what is open
  // (an embedded database must be closed to flush its files).
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  await ensureDevVars();
  const env = await stackEnv();
  starting = startStack({ mode: "dev", log, env });
  const stack = await starting;
  if (shuttingDown) return;
  startingStripe = startLocalStripe(env);
  const stripe = await startingStripe.catch(async (e: unknown) => {
    // Port taken, most likely: close the stack (an embedded database must flush) before leaving.
    await shutdown(`the Stripe emulator could not start: ${e instanceof Error ? e.message : e}`, 1);
    return null;
  });
  if (shuttingDown) return;
  wrangler = spawn(process.execPath, [WRANGLER, ...wranglerArgs(stack, stripe)], {
    cwd: ROOT,
    stdio: "inherit",
  });
  const code = await waitForExit(wrangler);
  await shutdown(`wrangler exited with code ${code}`, code);
}

main().catch((error: unknown) => {
  console.error(`[stack] ${errorMessage(error)}`);
  process.exit(1);
});
