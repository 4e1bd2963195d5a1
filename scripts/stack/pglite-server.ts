import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface PgliteServer {
  url: string;
  close(): Promise<void>;
}

export interface PgliteLock {
  pid: number;
  /** Where the holder serves the database, so another command can use it instead. */
  url?: string;
}

function lockPath(dataDir: string): string {
  return `${path.resolve(dataDir)}.lock`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The live process holding `dataDir`, or null when it is free (a stale lock counts as free). */
export async function readPgliteLock(dataDir: string): Promise<PgliteLock | null> {
  try {
    const lock = JSON.parse(await readFile(lockPath(dataDir), "utf8")) as PgliteLock;
    return typeof lock.pid === "number" && isAlive(lock.pid) ? lock : null;
  } catch {
    return null;
  }
}

/**
 * PGlite takes no lock of its own: two processes opening one data directory would corrupt it.
 * The lock file sits beside the directory, not in it, so Postgres never sees a stranger's file.
 */
async function acquireLock(dataDir: string): Promise<(url: string) => Promise<void>> {
  const file = lockPath(dataDir);
  const holder = await readPgliteLock(dataDir);
  if (holder) {
    throw new Error(
      `${dataDir} is in use by process ${holder.pid} (a running \`npm run dev\`?). ` +
        "PGlite's data directory can be opened by one process at a time; stop it first.",
    );
  }
  await rm(file, { force: true });
  // "wx" fails if another process won the race between our check and this write.
  const handle = await open(file, "wx");
  await handle.writeFile(JSON.stringify({ pid: process.pid } satisfies PgliteLock));
  await handle.close();
  return async (url) => {
    await writeFile(file, JSON.stringify({ pid: process.pid, url } satisfies PgliteLock));
  };
}

async function releaseLock(dataDir: string): Promise<void> {
  const holder = await readPgliteLock(dataDir);
  if (holder?.pid === process.pid) await rm(lockPath(dataDir), { force: true });
}

/**
 * Serves an embedded PGlite on the Postgres wire protocol at 127.0.0.1. `dataDir` persists the
 * database there; without it the database lives in memory and is gone on close. PGlite runs one
 * query at a time: the socket server multiplexes up to `maxConnections` clients onto it, holding
 * the others back while one is inside a transaction.
 */
export async function startPglite(opts: {
  dataDir?: string;
  port?: number;
  maxConnections?: number;
}): Promise<PgliteServer> {
  const { dataDir } = opts;
  let recordUrl: ((url: string) => Promise<void>) | null = null;
  if (dataDir) {
    await mkdir(path.dirname(path.resolve(dataDir)), { recursive: true });
    recordUrl = await acquireLock(dataDir);
  }
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ?? "memory://");
  } catch (error) {
    if (dataDir) await releaseLock(dataDir);
    throw error;
  }
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: opts.port ?? 0,
    // The Neon Pool opens up to 4 per request and the test files run in parallel; the whole
    // suite peaked at 9 here. Connections are cheap: only queries are serialized.
    maxConnections: opts.maxConnections ?? 100,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    if (dataDir) await releaseLock(dataDir);
    throw error;
  }
  // getServerConn() reports the port the OS chose when we asked for 0.
  const url = `postgres://postgres:postgres@${server.getServerConn()}/postgres`;
  await recordUrl?.(url);

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        await server.stop();
        // Closing flushes a persisted data directory; skipping it risks a torn write.
        await db.close();
        if (dataDir) await releaseLock(dataDir);
      })();
      return closing;
    },
  };
}
