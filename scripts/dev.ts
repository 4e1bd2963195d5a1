/**
 * `npm run dev`: the whole system on one machine. Starts the local stack (Postgres or embedded
 * PGlite, migrations, the Neon WebSocket bridge, the Upstash REST bridge when Redis answers),
 * then `wrangler dev` on :8787 with the stack's addresses as vars. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { type Stack, startStack } from "./stack/stack.ts";

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

function wranglerArgs(stack: Stack): string[] {
  const vars: Record<string, string> = {
    ENVIRONMENT: "development",
    DATABASE_URL: stack.databaseUrl,
  };
  if (stack.neonLocalWsProxy) vars.NEON_LOCAL_WS_PROXY = stack.neonLocalWsProxy;
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
  starting = startStack({ mode: "dev", log, env: await stackEnv() });
  const stack = await starting;
  if (shuttingDown) return;
  wrangler = spawn(process.execPath, [WRANGLER, ...wranglerArgs(stack)], {
    cwd: ROOT,
    stdio: "inherit",
  });
  const code = await waitForExit(wrangler);
  await shutdown(`wrangler exited with code ${code}`, code);
}

main().catch((error: unknown) => {
  console.error(`[stack] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
