/**
 * One run of an upload, from the imports queue: read the file from R2, apply every row not yet
 * applied, note each row's outcome in the ledger (`upload_rows`), then finish the upload with
 * its counts, row errors and status (audited). The ledger is what makes a fault double
 * nothing: a redelivered message or a retry skips the rows that succeeded, and a row whose
 * outcome was lost in a crash is applied again under the same key, which its service replays.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import { shops } from "../../db/schema/shops.ts";
import { type Upload, type UploadRowError, uploadRows, uploads } from "../../db/schema/uploads.ts";
import { minorUnits } from "../../lib/currencies.ts";
import { derive, type ServiceContext } from "../context.ts";
import { shopLocationsOf } from "../inventory/access.ts";
import { type CsvRow, readTable } from "./csv.ts";
import { stockRows } from "./inventory.ts";
import type { RowOutcome, RunScope } from "./outcome.ts";
import { saleRows } from "./transactions.ts";
import { uploadSummary } from "./uploads.ts";

/** Outcomes written per statement: few round trips, little lost to a crash. */
const LEDGER_BATCH = 50;

type Noted = RowOutcome & { row: number };

async function note(ctx: ServiceContext, uploadId: string, outcomes: Noted[]): Promise<void> {
  if (outcomes.length === 0) return;
  // Bookkeeping, not a change of the shop's data: what each row did is audited by that change.
  await ctx.db
    .insert(uploadRows)
    .values(
      outcomes.map((o) => ({
        uploadId,
        row: o.row,
        status: o.status,
        errors: o.status === "failed" ? o.errors : [],
        resultId: o.status === "succeeded" ? o.resultId : null,
      })),
    )
    .onConflictDoUpdate({
      target: [uploadRows.uploadId, uploadRows.row],
      set: {
        status: sql`excluded.status`,
        errors: sql`excluded.errors`,
        resultId: sql`excluded.result_id`,
        updatedAt: sql`now()`,
      },
      // A row once applied stays applied: a twin run that lost the race to it (its product
      // already created, say) must not write it down as failed.
      setWhere: sql`${uploadRows.status} <> 'succeeded'`,
    });
}

/**
 * Works one upload (the imports queue's `csv` message). A finished upload is left alone (a
 * late redelivery); a queued or interrupted one runs its pending rows. Rows run one after the
 * other, in file order, as a person would enter them (a later count of the same SKU wins). A
 * refusal (unknown SKU, not enough stock, a bad cell) fails its row; anything else (Postgres
 * or an object unreachable) throws, so the queue delivers the message again.
 */
export async function processUpload(ctx: ServiceContext, uploadId: string): Promise<void> {
  const [upload] = await ctx.db.select().from(uploads).where(eq(uploads.id, uploadId));
  if (!upload) {
    ctx.logger.warn("upload to process not found", { uploadId });
    return;
  }
  if (upload.status !== "queued" && upload.status !== "processing") return;
  await ctx.db
    .update(uploads)
    .set({ status: "processing", startedAt: new Date(), updatedAt: new Date() })
    .where(and(eq(uploads.id, uploadId), inArray(uploads.status, ["queued", "processing"])));

  const file = await ctx.files.get(upload.fileKey);
  if (!file) {
    await finish(ctx, upload, 0, [
      { row: 1, field: null, message: "the file is no longer stored; upload it again" },
    ]);
    return;
  }
  const table = readTable(await file.text(), upload.kind);
  if (table.fileProblems.length > 0) {
    await finish(ctx, upload, table.total, table.fileProblems);
    return;
  }
  const [shop] = await ctx.db
    .select({ currency: shops.currency })
    .from(shops)
    .where(eq(shops.id, upload.shopId));
  if (!shop) throw new Error(`shop ${upload.shopId} of upload ${uploadId} is gone`);

  // The rows act as the person who uploaded them: their role is checked again on each row,
  // and the keys that make a row's effect happen once are theirs.
  const as = derive(ctx, {
    actor: { type: "user", id: upload.createdBy, requestId: `upload:${upload.id}` },
  });
  const scope: RunScope = {
    upload,
    currency: shop.currency,
    digits: minorUnits(shop.currency),
    locations: new Map((await shopLocationsOf(ctx.db, upload.shopId)).map((l) => [l.code, l.id])),
  };
  const apply = upload.kind === "transactions" ? saleRows(as, scope) : stockRows(as, scope);
  const done = new Set(
    (
      await ctx.db
        .select({ row: uploadRows.row })
        .from(uploadRows)
        .where(and(eq(uploadRows.uploadId, uploadId), eq(uploadRows.status, "succeeded")))
    ).map((r) => r.row),
  );
  const pending: Noted[] = [];
  for (const p of table.rowProblems) {
    pending.push({ row: p.row, status: "failed", errors: [p] });
  }
  await note(ctx, uploadId, pending.splice(0));
  const todo: CsvRow[] = table.rows.filter((r) => !done.has(r.row));
  for (const csv of todo) {
    pending.push({ row: csv.row, ...(await apply(csv)) });
    if (pending.length >= LEDGER_BATCH) await note(ctx, uploadId, pending.splice(0));
  }
  await note(ctx, uploadId, pending);
  await finish(ctx, upload, table.total, []);
}

/**
 * Counts the ledger and closes the run: `succeeded` when every row is applied, `failed` when
 * none is, `partially_failed` in between. `extra` are problems of the whole file (every row
 * then fails). Only the run that moves the upload out of `processing` writes and audits it.
 */
async function finish(
  ctx: ServiceContext,
  upload: Upload,
  total: number,
  extra: UploadRowError[],
): Promise<void> {
  const ledger = await ctx.db
    .select({ row: uploadRows.row, status: uploadRows.status, errors: uploadRows.errors })
    .from(uploadRows)
    .where(eq(uploadRows.uploadId, upload.id))
    .orderBy(uploadRows.row);
  const succeeded = extra.length > 0 ? 0 : ledger.filter((r) => r.status === "succeeded").length;
  const failedRows = total - succeeded;
  const rowErrors =
    extra.length > 0 ? extra : ledger.filter((r) => r.status === "failed").flatMap((r) => r.errors);
  const status =
    extra.length > 0 || succeeded === 0
      ? "failed"
      : failedRows === 0
        ? "succeeded"
        : "partially_failed";
  const now = new Date();
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [after] = await tx
      .update(uploads)
      .set({
        status,
        totalRows: total,
        succeededRows: succeeded,
        failedRows,
        rowErrors,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(eq(uploads.id, upload.id), eq(uploads.status, "processing")))
      .returning();
    if (!after) return;
    await audit.record({
      action: "upload.completed",
      entityType: "upload",
      entityId: upload.id,
      newValue: uploadSummary(after),
    });
  });
}
