import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { readPgliteLock, startPglite } from "./pglite-server.ts";
import { DEV_PGLITE_DIR, redact } from "./stack.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** .dev.vars first, the shell's environment over it, as `npm run dev` reads them. */
export function loadDevEnv(): Record<string, string | undefined> {
  const file = path.join(ROOT, ".dev.vars");
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  return { ...fromFile, ...process.env };
}

export interface DatabaseTarget {
  url: string;
  close(): Promise<void>;
}

/**
 * The database an operator script (seed, admin:create) writes to: DATABASE_URL when set; else
 * the dev PGlite, through the running `npm run dev` when it holds the data directory (PGlite
 * allows one process), or opened directly when nothing runs.
 */
export async function openDevDatabase(
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
): Promise<DatabaseTarget> {
  if (env.DATABASE_URL) {
    log(`database: ${redact(env.DATABASE_URL)}`);
    return { url: env.DATABASE_URL, close: async () => {} };
  }
  const holder = await readPgliteLock(DEV_PGLITE_DIR);
  if (holder) {
    if (!holder.url) {
      throw new Error(
        `${DEV_PGLITE_DIR} is held by process ${holder.pid} (npm run dev, starting up?). ` +
          "Try again in a moment.",
      );
    }
    log(`database: the running dev server's PGlite (${DEV_PGLITE_DIR}, pid ${holder.pid})`);
    return { url: holder.url, close: async () => {} };
  }
  const pglite = await startPglite({ dataDir: DEV_PGLITE_DIR });
  log(`database: embedded PGlite in ${DEV_PGLITE_DIR}`);
  return { url: pglite.url, close: () => pglite.close() };
}
