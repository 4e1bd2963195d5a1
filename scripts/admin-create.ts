/**
 * `npm run admin:create -- --email ops@example.com [--password …] [--name "Ops"]`
 *
 * Makes the first admin (or promotes an existing account). Admins are never created through a
 * public route: this script writes to the database directly, with its audit row, and hashes the
 * password exactly as the Worker does (same module, same pepper from .dev.vars or the shell).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { z } from "zod";
import * as schema from "../src/db/schema/index.ts";
import { MAX_PBKDF2_ITERATIONS } from "../src/env.ts";
import { errorMessage } from "../src/lib/error-message.ts";
import { uuidv7 } from "../src/lib/ids.ts";
import { hashPassword } from "../src/services/auth/password.ts";
import { loadDevEnv, openDevDatabase } from "./stack/dev-database.ts";
import { applyMigrations } from "./stack/postgres.ts";

const log = (msg: string) => console.log(`[admin:create] ${msg}`);

const argsSchema = z.object({
  email: z.email("--email must be an email address").transform((e) => e.toLowerCase()),
  password: z.string().min(10, "--password must be at least 10 characters").optional(),
  name: z.string().min(1).max(80).default("Administrator"),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`error: ${issue.message}`);
    console.error(
      "usage: npm run admin:create -- --email EMAIL [--password PASSWORD] [--name NAME]",
    );
    process.exit(2);
  }
  const args = parsed.data;
  const env = loadDevEnv();
  const pepper = env.PASSWORD_PEPPER;
  if (!pepper || pepper.length < 16) {
    throw new Error(
      "PASSWORD_PEPPER is not set: use the Worker's value (.dev.vars locally, or the shell) so the " +
        "admin's password verifies.",
    );
  }
  const iterations = Math.min(
    Number(env.PBKDF2_ITERATIONS ?? MAX_PBKDF2_ITERATIONS),
    MAX_PBKDF2_ITERATIONS,
  );
  const password = args.password ?? randomBytes(15).toString("base64url");
  const target = await openDevDatabase(env, log);
  const pool = new pg.Pool({ connectionString: target.url, max: 1 });
  pool.on("error", () => {});
  try {
    await applyMigrations(target.url);
    const db = drizzle({ client: pool, schema });
    const passwordHash = await hashPassword(password, pepper, iterations);
    const outcome = await db.transaction(async (tx) => {
      const [existing] = await tx
        .select()
        .from(schema.users)
        .where(and(eq(schema.users.email, args.email), isNull(schema.users.deletedAt)))
        .for("update");
      const actor = { actorType: "system", requestId: "script:admin:create" };
      if (existing) {
        await tx
          .update(schema.users)
          .set({ role: "admin", updatedAt: new Date() })
          .where(eq(schema.users.id, existing.id));
        if (args.password) {
          await tx
            .update(schema.credentials)
            .set({ passwordHash, updatedAt: new Date() })
            .where(eq(schema.credentials.userId, existing.id));
        }
        await tx.insert(schema.auditLog).values({
          id: uuidv7(),
          ...actor,
          action: "user.promoted",
          entityType: "user",
          entityId: existing.id,
          oldValue: { role: existing.role },
          newValue: { role: "admin", passwordReset: Boolean(args.password) },
        });
        return { id: existing.id, created: false };
      }
      const id = uuidv7();
      await tx
        .insert(schema.users)
        .values({ id, email: args.email, displayName: args.name, role: "admin" });
      await tx.insert(schema.credentials).values({ userId: id, passwordHash });
      await tx.insert(schema.auditLog).values({
        id: uuidv7(),
        ...actor,
        action: "user.registered",
        entityType: "user",
        entityId: id,
        newValue: { email: args.email, role: "admin", source: "admin:create" },
      });
      return { id, created: true };
    });
    if (outcome.created) {
      log(`created admin ${args.email} (${outcome.id})`);
      if (!args.password) log(`password: ${password}   (shown once: store it now)`);
    } else {
      log(
        `promoted ${args.email} (${outcome.id}) to admin${args.password ? " and set its password" : ""}`,
      );
    }
  } finally {
    await pool.end();
    await target.close();
  }
}

main().catch((err: unknown) => {
  console.error(`[admin:create] ${errorMessage(err)}`);
  process.exit(1);
});
