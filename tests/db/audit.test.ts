import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AuditMissing, withAudit } from "../../src/db/audit.ts";
import { auditLog, users } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { withDb } from "../helpers/db.ts";
import { uniqueEmail } from "../helpers/http.ts";

/** Drizzle wraps driver errors; the Postgres message is on the cause. */
function causeMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } } | undefined;
  return e?.cause?.message ?? e?.message ?? "no error";
}

const actor = { type: "system" as const, requestId: "test" };

describe("withAudit", () => {
  it("commits the change and its audit row together", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await withAudit(db, actor, async (tx, audit) => {
        await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "A" });
        await audit.record({
          action: "user.created",
          entityType: "user",
          entityId: id,
          newValue: { id },
        });
      });
      expect(await db.select().from(users).where(eq(users.id, id))).toHaveLength(1);
      const rows = await db.select().from(auditLog).where(eq(auditLog.entityId, id));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorType: "system",
        action: "user.created",
        requestId: "test",
      });
    });
  });

  it("rolls back both the change and the audit row when the change fails after auditing", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await expect(
        withAudit(db, actor, async (tx, audit) => {
          await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "B" });
          await audit.record({ action: "user.created", entityType: "user", entityId: id });
          throw new Error("boom after both writes");
        }),
      ).rejects.toThrow("boom");
      expect(await db.select().from(users).where(eq(users.id, id))).toHaveLength(0);
      expect(await db.select().from(auditLog).where(eq(auditLog.entityId, id))).toHaveLength(0);
    });
  });

  it("refuses to commit a change that recorded no audit row", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await expect(
        withAudit(db, actor, async (tx) => {
          await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "C" });
        }),
      ).rejects.toThrow(AuditMissing);
      expect(await db.select().from(users).where(eq(users.id, id))).toHaveLength(0);
    });
  });

  it("keeps audit rows append-only in Postgres itself: UPDATE and DELETE fail", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await withAudit(db, actor, async (_tx, audit) => {
        await audit.record({ action: "x.done", entityType: "x", entityId: id });
      });
      const update = await db
        .update(auditLog)
        .set({ action: "x.undone" })
        .where(eq(auditLog.entityId, id))
        .catch((e: unknown) => e);
      expect(causeMessage(update)).toMatch(/append-only \(UPDATE refused\)/);
      const del = await db
        .delete(auditLog)
        .where(eq(auditLog.entityId, id))
        .catch((e: unknown) => e);
      expect(causeMessage(del)).toMatch(/append-only \(DELETE refused\)/);
      expect(await db.select().from(auditLog).where(eq(auditLog.entityId, id))).toHaveLength(1);
    });
  });
});
