/**
 * The stack `npm run faults` breaks: the local stack as `npm run dev` runs it (a fresh database on
 * the local Postgres or embedded PGlite, the Neon bridges, the Upstash REST bridge when Redis
 * answers), the Stripe emulator in its own process delivering signed webhooks, and the Worker under
 * wrangler in a process the harness may kill. Every peer the Worker talks to sits behind a
 * FaultProxy, and everything listens on ports of its own (from --port-base, 8900 by default), so
 * a running `npm run dev` on :8787 and :12111 is never touched.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../src/db/schema/index.ts";
import { type Child, descendantsNamed, messageOf, startChild } from "../bench/children.ts";
import { type BenchShop, seedShop, signTokens } from "../bench/souk.ts";
import { ROOT } from "../stack/dev-database.ts";
import {
  type StripeProcess,
  startStripeProcess,
  webhookSecret,
  workerVars,
} from "../stack/local-worker.ts";
import { type Stack, startStack } from "../stack/stack.ts";
import { type FaultProxy, startFaultProxy } from "./proxy.ts";

const HERE = path.dirname(new URL(import.meta.url).pathname);

export interface Rig {
  url: string;
  pool: pg.Pool;
  db: NodePgDatabase<typeof schema>;
  stack: Stack;
  stripe: StripeProcess;
  jwtSecret: string;
  /** The platform webhook secret the Worker and the emulator share. */
  webhookSecret: string;
  shop: BenchShop;
  sellerToken: string;
  proxies: { pgWs: FaultProxy; pgHttp: FaultProxy; redis: FaultProxy | null; stripe: FaultProxy };
  /** Both ways from the Worker to Postgres at once. */
  postgres(mode: "up" | "down" | "blackhole"): void;
  /** SIGKILL to the Worker's workerd processes (the Durable Objects die with them), then wrangler. */
  kill(): Promise<void>;
  /** The Worker again, on the same port and the same persisted state. */
  start(): Promise<void>;
  /** Runs one cron as the platform would (wrangler's scheduled trigger endpoint). */
  scheduled(cron: string): Promise<number>;
  logFile: string;
  /** Where wrangler keeps the Worker's state (the objects' SQLite files among it). */
  persistTo: string;
  stop(): Promise<void>;
}

export async function startRig(opts: {
  portBase: number;
  log: (msg: string) => void;
}): Promise<Rig> {
  const { log, portBase } = opts;
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        log(`stop: ${String(error)}`);
      }
    }
  };
  try {
    // Test mode: a database of its own, dropped at the end; never .data/pg or a dev server's.
    const env = { ...process.env, CI: undefined };
    const stack = await startStack({ mode: "test", env, log: (m) => log(`stack: ${m}`) });
    cleanups.push(() => stack.stop());
    if (!stack.neonLocalWsProxy || !stack.neonLocalHttp) {
      throw new Error("faults need Postgres on this machine (DATABASE_URL is remote)");
    }
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
    pool.on("error", () => {});
    cleanups.push(() => pool.end());
    const db = drizzle({ client: pool, schema });

    const workerPort = portBase;
    const url = `http://127.0.0.1:${workerPort}`;
    const platformSecret = webhookSecret();
    const connectSecret = webhookSecret();
    const stripe = await startStripeProcess({
      port: portBase + 1,
      webhooks: [
        { url: `${url}/v1/webhooks/stripe`, secret: platformSecret, connect: false },
        { url: `${url}/v1/webhooks/stripe/connect`, secret: connectSecret, connect: true },
      ],
    });
    cleanups.push(() => stripe.stop());

    const pgWs = await startFaultProxy("postgres (ws)", stack.neonLocalWsProxy, portBase + 10);
    const pgHttp = await startFaultProxy("postgres (http)", stack.neonLocalHttp, portBase + 11);
    const stripeProxy = await startFaultProxy("stripe", new URL(stripe.url).host, portBase + 13);
    const redisUrl = stack.redisRest ? new URL(stack.redisRest.url) : null;
    const redis = redisUrl ? await startFaultProxy("redis", redisUrl.host, portBase + 12) : null;
    for (const p of [pgWs, pgHttp, stripeProxy, redis]) if (p) cleanups.push(() => p.close());

    const jwtSecret = randomBytes(32).toString("base64url");
    const overrides: Record<string, string> = {
      NEON_LOCAL_WS_PROXY: pgWs.address,
      NEON_LOCAL_HTTP: pgHttp.address,
      STRIPE_API_BASE: `http://${stripeProxy.address}`,
      STRIPE_WEBHOOK_SECRET: platformSecret,
      STRIPE_CONNECT_WEBHOOK_SECRET: connectSecret,
      // The dev-only fault hooks (src/lib/dev-faults.ts); inert unless an event asks for one.
      DEV_FAULT_HOOKS: "1",
    };
    if (redis && redisUrl) {
      overrides.UPSTASH_REDIS_REST_URL = `${redisUrl.protocol}//${redis.address}${redisUrl.pathname.replace(/\/$/, "")}`;
    }
    const vars = workerVars({ stack, stripe, jwtSecret, overrides });

    const persistTo = mkdtempSync(path.join(tmpdir(), "souk-faults-"));
    cleanups.push(() => rmSync(persistTo, { recursive: true, force: true }));
    const logDir = path.join(ROOT, ".bench");
    mkdirSync(logDir, { recursive: true });
    const logFile = path.join(logDir, `faults-worker-${Date.now()}.log`);

    let worker: Child | null = null;
    const kill = async () => {
      const child = worker;
      worker = null;
      if (!child?.process.pid) return;
      for (const pid of descendantsNamed(child.process.pid, "workerd")) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      child.process.kill("SIGKILL");
      await child.stop();
    };
    const start = async () => {
      if (worker) return;
      const child = startChild(path.join(HERE, "worker-process.ts"), {
        name: "worker",
        env: {
          ...process.env,
          FAULTS_WORKER: JSON.stringify({ vars, persistTo, port: workerPort, logFile }),
        },
      });
      worker = child;
      await child.next(messageOf<{ type: "ready"; url: string }>("ready"), 180_000);
    };
    cleanups.push(async () => {
      const child = worker;
      worker = null;
      await child?.stop();
    });
    log(`starting the Worker on ${url} (log: ${path.relative(ROOT, logFile)})`);
    await start();

    const shop = await seedShop(db);
    await onboard(stripe, pool, shop.id);
    const [sellerToken = ""] = await signTokens([shop.sellerId], "seller", jwtSecret);

    return {
      url,
      pool,
      db,
      stack,
      stripe,
      jwtSecret,
      webhookSecret: platformSecret,
      shop,
      sellerToken,
      proxies: { pgWs, pgHttp, redis, stripe: stripeProxy },
      postgres(mode) {
        pgWs.set(mode);
        pgHttp.set(mode);
      },
      kill,
      start,
      async scheduled(cron) {
        const res = await fetch(
          `${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cron)}`,
          { signal: AbortSignal.timeout(120_000) },
        );
        await res.text();
        return res.status;
      },
      logFile,
      persistTo,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The bench shop's placeholder account replaced by one the emulator knows and has onboarded, so
 * transfers on payment go through as they would for a real shop.
 */
async function onboard(stripe: StripeProcess, pool: pg.Pool, shopId: string): Promise<void> {
  const res = await fetch(`${stripe.url}/v1/accounts`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stripe.secretKey}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "type=express&country=PT",
  });
  const account = (await res.json()) as { id?: string };
  if (!account.id) throw new Error(`the emulator made no account: ${JSON.stringify(account)}`);
  await fetch(`${stripe.url}/_emulator/accounts/${account.id}/onboard`, { method: "POST" });
  await pool.query("update shops set stripe_account_id = $1 where id = $2", [account.id, shopId]);
}
