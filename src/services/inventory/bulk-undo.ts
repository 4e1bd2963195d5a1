/**
 * Undoing a committed bulk stock operation as one operation. The reverse of every line (the
 * negated on-hand change of each movement the operation made) runs through the same two-phase
 * coordinator as the original (`runBulk`), so it is all or nothing the same way: when a line can
 * no longer be reversed (units it added have since been sold or reserved), every object refuses
 * or aborts, nothing changes, and the answer is 409 INSUFFICIENT_STOCK naming the lines.
 *
 * An operation is undone once. The original's `outcome` carries the claim: `undoing` while an
 * undo runs (a compare-and-set, so two undos racing give one run and one 409), then `undoneBy`,
 * the undo's own operation id, written with the audit row. A refused undo drops its claim, so
 * it can be tried again once stock allows. A second undo is a 409 CONFLICT (reason
 * ALREADY_UNDONE), except the same caller repeating the same Idempotency-Key, which gets the
 * first undo's answer again.
 */
import { and, eq, sql } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import { type BulkOperation, bulkOperations } from "../../db/schema/inventory.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, DomainError, NotFound } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { type BulkLine, type BulkResult, runBulk } from "./bulk.ts";

/** What the original operation's outcome holds besides its result, once an undo claimed it. */
interface UndoMarks {
  undoing?: string;
  undoneBy?: string;
}

type Outcome = Partial<BulkResult> & UndoMarks;

/**
 * Reverses every line of committed bulk operation `operationId` (owner, manager of its shop;
 * staff 403, anyone else 404) as a new bulk operation, and returns that operation's result.
 */
export async function undoBulkOperation(
  ctx: ServiceContext,
  userId: string,
  operationId: string,
  idempotencyKey?: string,
): Promise<BulkResult> {
  const [op] = await ctx.db.select().from(bulkOperations).where(eq(bulkOperations.id, operationId));
  if (!op) throw new NotFound("bulk operation", operationId);
  try {
    await requireShopPermission(ctx.db, op.shopId, userId, "stock.write");
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") {
      throw new NotFound("bulk operation", operationId);
    }
    throw err;
  }
  const outcome = (op.outcome ?? {}) as Outcome;
  if (outcome.undoneBy) {
    const replay = await priorUndo(ctx, outcome.undoneBy, idempotencyKey);
    if (replay) return replay;
    throw new Conflict(`Bulk operation ${op.id} was already undone.`, {
      reason: "ALREADY_UNDONE",
      undoneBy: outcome.undoneBy,
    });
  }
  if (op.state !== "committed") {
    throw new Conflict(`Only a committed bulk operation can be undone; this one is ${op.state}.`, {
      state: op.state,
    });
  }
  const lines = reverseLines(outcome);
  if (lines.length === 0) {
    throw new Conflict(`Bulk operation ${op.id} changed no stock; there is nothing to undo.`);
  }
  const claim = ctx.actor.requestId ?? userId;
  if (!(await claimUndo(ctx, op, claim))) {
    throw new Conflict(`Bulk operation ${op.id} is being undone or was already undone.`, {
      reason: "ALREADY_UNDONE",
    });
  }
  let result: BulkResult;
  try {
    result = await runBulk(ctx, {
      shopId: op.shopId,
      source: "bulk",
      reason: `undo of bulk operation ${op.id}`,
      lines,
      idempotencyKey,
    });
  } catch (err) {
    await ctx.db
      .update(bulkOperations)
      .set({ outcome: sql`${bulkOperations.outcome} - 'undoing'`, updatedAt: new Date() })
      .where(eq(bulkOperations.id, op.id));
    throw err;
  }
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await tx
      .update(bulkOperations)
      .set({
        outcome: sql`(${bulkOperations.outcome} - 'undoing') || ${JSON.stringify({
          undoneBy: result.operationId,
        })}::jsonb`,
        updatedAt: new Date(),
      })
      .where(eq(bulkOperations.id, op.id));
    await audit.record({
      action: "stock.bulk_undone",
      entityType: "bulk_operation",
      entityId: op.id,
      oldValue: { undoneBy: null },
      newValue: { undoneBy: result.operationId, lines: lines.length },
    });
  });
  return result;
}

/** The negated on-hand change of every movement the operation made (none for a zero change). */
function reverseLines(outcome: Outcome): BulkLine[] {
  return (outcome.movements ?? [])
    .filter((m) => m.deltaOnHand !== 0)
    .map((m) => ({
      productId: m.productId,
      locationId: m.locationId,
      mode: "delta" as const,
      quantity: -m.deltaOnHand,
    }));
}

/** Marks the operation as being undone, unless an undo already claimed or finished it. */
async function claimUndo(ctx: ServiceContext, op: BulkOperation, claim: string): Promise<boolean> {
  const rows = await ctx.db
    .update(bulkOperations)
    .set({
      outcome: sql`${bulkOperations.outcome} || ${JSON.stringify({ undoing: claim })}::jsonb`,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(bulkOperations.id, op.id),
        eq(bulkOperations.state, "committed"),
        sql`not (${bulkOperations.outcome} ?| array['undoing', 'undoneBy'])`,
      ),
    )
    .returning({ id: bulkOperations.id });
  return rows.length > 0;
}

/** The first undo's answer when this caller repeats its Idempotency-Key, else null. */
async function priorUndo(
  ctx: ServiceContext,
  undoId: string,
  idempotencyKey: string | undefined,
): Promise<BulkResult | null> {
  if (!idempotencyKey) return null;
  const [prior] = await ctx.db
    .select({
      outcome: bulkOperations.outcome,
      key: bulkOperations.idempotencyKey,
      actorId: bulkOperations.actorId,
    })
    .from(bulkOperations)
    .where(and(eq(bulkOperations.id, undoId), eq(bulkOperations.state, "committed")));
  if (!prior || prior.key !== idempotencyKey || prior.actorId !== (ctx.actor.id ?? null)) {
    return null;
  }
  return prior.outcome as BulkResult;
}
