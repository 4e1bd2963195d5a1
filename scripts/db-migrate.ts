import { errorMessage } from "../src/lib/error-message.ts";
/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the dev PGlite in
 * .data/pg when it is unset. `npm run dev` applies them on start as well; this is for a database
 * you run yourself, or for a migration generated while the dev server is up.
 */
import { readPgliteLock, startPglite } from "./stack/pglite-server.ts";
import { applyMigrations } from "./stack/postgres.ts";
import { DEV_PGLITE_DIR, redact } from "./stack/stack.ts";

const log = (msg: string) => console.log(`[db:migrate] ${msg}`);

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    await applyMigrations(databaseUrl);
    log(`migrations applied to ${redact(databaseUrl)}`);
    return;
  }

  // PGlite's data directory belongs to one process at a time. When `npm run dev` holds it, go
  // through the wire-protocol server that process runs instead of opening the files ourselves.
  const holder = await readPgliteLock(DEV_PGLITE_DIR);
  if (holder) {
    if (!holder.url) {
      throw new Error(
        `${DEV_PGLITE_DIR} is held by process ${holder.pid} (npm run dev, starting up?). ` +
          "Try again in a moment, or stop it first.",
      );
    }
    log(`${DEV_PGLITE_DIR} is in use by the dev server (pid ${holder.pid}); migrating through it`);
    await applyMigrations(holder.url);
    log(`migrations applied to the running dev database`);
    return;
  }

  const pglite = await startPglite({ dataDir: DEV_PGLITE_DIR });
  try {
    await applyMigrations(pglite.url);
    log(`migrations applied to ${DEV_PGLITE_DIR}`);
  } finally {
    await pglite.close();
  }
}

main().catch((error: unknown) => {
  console.error(`[db:migrate] ${errorMessage(error)}`);
  process.exit(1);
});
