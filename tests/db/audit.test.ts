import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AuditMissing, withAudit } from "../../src/db/audit.ts";
import { auditLog, carts, users } from "../../src/db/schema/index.ts";
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

  it("refuses a change whose only audit row was recorded by a joined call that wrote nothing else", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await expect(
        withAudit(db, actor, async (tx) => {
          await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "D" });
          // A helper that joins the transaction and writes nothing records nothing either.
          await withAudit(tx, actor, async () => undefined);
        }),
      ).rejects.toThrow(AuditMissing);
      expect(await db.select().from(users).where(eq(users.id, id))).toHaveLength(0);
    });
  });

  it("joins an outer transaction: the inner change's row counts, and both roll back together", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await expect(
        withAudit(db, actor, async (tx) => {
          await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "E" });
          await withAudit(tx, actor, (inner, audit) =>
            audit
              .record({ action: "user.created", entityType: "user", entityId: id })
              .then(() => expect(inner).toBe(tx)),
          );
          throw new Error("the outer change fails after the inner one recorded");
        }),
      ).rejects.toThrow("outer change fails");
      expect(await db.select().from(users).where(eq(users.id, id))).toHaveLength(0);
      expect(await db.select().from(auditLog).where(eq(auditLog.entityId, id))).toHaveLength(0);
      // The same joined call, without the failure, commits the change with the inner row.
      await withAudit(db, actor, async (tx) => {
        await tx.insert(users).values({ id, email: uniqueEmail(), displayName: "E" });
        await withAudit(tx, actor, (_inner, audit) =>
          audit.record({ action: "user.created", entityType: "user", entityId: id }),
        );
      });
      expect(await db.select().from(auditLog).where(eq(auditLog.entityId, id))).toHaveLength(1);
    });
  });

  it("lets a run that wrote nothing (a retry that found its work done) commit without a row", async () => {
    await withDb(async (db) => {
      const found = await withAudit(db, actor, async (tx) =>
        tx.select({ id: users.id }).from(users).limit(1),
      );
      expect(Array.isArray(found)).toBe(true);
    });
  });

  it("needs no row for tables that are not audited by design (a buyer's own cart)", async () => {
    const id = uuidv7();
    await withDb(async (db) => {
      await db.insert(users).values({ id, email: uniqueEmail(), displayName: "F" });
      await withAudit(db, actor, async (tx) => {
        await tx.insert(carts).values({ id: uuidv7(), buyerId: id });
      });
      expect(await db.select().from(carts).where(eq(carts.buyerId, id))).toHaveLength(1);
    });
  });

  it("is the only way a service opens a transaction (the one HTTP batch writes its rows in SQL)", () => {
    const sources = import.meta.glob(["/src/services/**/*.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    });
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const bypassing = Object.entries(sources)
      .filter(([, text]) => /\b(?:db|tx)\.transaction\(/.test(text))
      .map(([path]) => path);
    expect(bypassing).toEqual([]);
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
