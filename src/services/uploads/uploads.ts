/**
 * CSV uploads (issue 13): a shop's team sends a transactions or an inventory file; it is kept
 * in R2 under the shop and its sha256, an upload row records it (audited), and the `imports`
 * queue works it off the request (./process.ts). The same bytes for the same shop and kind are
 * the same upload, answered again and never applied twice. A finished upload whose rows failed
 * can be retried: only the failed rows run again.
 */
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import {
  UPLOAD_KINDS,
  UPLOAD_STATUSES,
  type Upload,
  type UploadKind,
  type UploadRowError,
  type UploadStatus,
  uploads,
} from "../../db/schema/uploads.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, pageQuery, toPage } from "../../lib/pagination.ts";
import { isStorableText } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { MAX_IMPORT_BYTES } from "../inventory/import.ts";
import { requireShopPermission, type ShopPermission } from "../shops/access.ts";
import { readTable } from "./csv.ts";

/**
 * Who may upload, read and retry each kind: a transactions file records sales, an inventory
 * file writes the catalog and stock (both owner and manager today; staff get 403).
 */
const PERMISSION: Record<UploadKind, ShopPermission> = {
  transactions: "sales.write",
  inventory: "stock.write",
};
/** A shop's list mixes both kinds: for those who run the shop (owner, manager). */
const LIST_PERMISSION: ShopPermission = "sales.read";

/** Statuses a retry starts from: finished with failed rows. */
const RETRYABLE: UploadStatus[] = ["failed", "partially_failed"];

const statusList = z
  .string()
  .regex(
    new RegExp(`^(${UPLOAD_STATUSES.join("|")})(,(${UPLOAD_STATUSES.join("|")}))*$`),
    `one or more of ${UPLOAD_STATUSES.join(", ")}, comma separated`,
  );

export const uploadInput = z.object({ shopId: z.uuid(), kind: z.enum(UPLOAD_KINDS) });

export const uploadListQuery = pageQuery.extend({
  shopId: z.uuid(),
  /** One status or several, comma separated: `failed,partially_failed`. */
  status: statusList.optional(),
  kind: z.enum(UPLOAD_KINDS).optional(),
});

export const adminUploadListQuery = uploadListQuery.extend({ shopId: z.uuid().optional() });

/** An upload as lists show it: no row errors (they can be thousands). */
export interface UploadSummary {
  id: string;
  shopId: string;
  kind: UploadKind;
  status: UploadStatus;
  fileHash: string;
  sizeBytes: number;
  totalRows: number;
  succeededRows: number;
  failedRows: number;
  attempts: number;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export interface UploadView extends UploadSummary {
  /** The failed rows' problems, by row; empty until a run finishes with failures. */
  rowErrors: UploadRowError[];
}

export interface UploadResult {
  upload: UploadView;
  /** False when these bytes were uploaded before: the first upload, nothing queued again. */
  created: boolean;
}

export function uploadSummary(u: Upload): UploadSummary {
  return {
    id: u.id,
    shopId: u.shopId,
    kind: u.kind,
    status: u.status,
    fileHash: u.fileHash,
    sizeBytes: u.sizeBytes,
    totalRows: u.totalRows,
    succeededRows: u.succeededRows,
    failedRows: u.failedRows,
    attempts: u.attempts,
    createdBy: u.createdBy,
    createdAt: u.createdAt.toISOString(),
    startedAt: u.startedAt?.toISOString() ?? null,
    finishedAt: u.finishedAt?.toISOString() ?? null,
    updatedAt: u.updatedAt.toISOString(),
  };
}

export function uploadView(u: Upload): UploadView {
  return { ...uploadSummary(u), rowErrors: u.rowErrors };
}

/** The body as UTF-8 text a CSV reader and Postgres both accept, or a 422 naming `body`. */
function csvText(bytes: ArrayBuffer): string {
  if (bytes.byteLength > MAX_IMPORT_BYTES) {
    throw new ValidationFailed([
      { field: "body", in: "body", message: `must be at most ${MAX_IMPORT_BYTES} bytes` },
    ]);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ValidationFailed([{ field: "body", in: "body", message: "is not valid UTF-8" }]);
  }
  if (!isStorableText(text)) {
    throw new ValidationFailed([{ field: "body", in: "body", message: "must not contain U+0000" }]);
  }
  return text;
}

/**
 * Takes a CSV file of `kind` for the shop (owner, manager): its header is checked at once (422
 * naming each problem by row and column), the bytes go to R2 under the shop and their sha256,
 * an upload row is written with its audit row, and a message asks the imports queue to work
 * it. The same bytes for the same shop and kind answer the existing upload (`created: false`).
 * `body` is read only after the permission check: a stranger learns nothing from it.
 */
export async function createUpload(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof uploadInput>,
  body: () => Promise<ArrayBuffer>,
): Promise<UploadResult> {
  const input = parseOr422(uploadInput, raw, "query");
  await requireShopPermission(ctx.db, input.shopId, userId, PERMISSION[input.kind]);
  const bytes = await body();
  const { fileProblems } = readTable(csvText(bytes), input.kind);
  if (fileProblems.length > 0) {
    throw new ValidationFailed(
      fileProblems.map((p) => ({
        field: p.field ? `rows.${p.row}.${p.field}` : `rows.${p.row}`,
        in: "body",
        message: p.message,
      })),
      `The file cannot be read as a ${input.kind} upload; nothing was queued.`,
    );
  }
  const fileHash = await sha256Hex(bytes);
  const same = and(
    eq(uploads.shopId, input.shopId),
    eq(uploads.kind, input.kind),
    eq(uploads.fileHash, fileHash),
  );
  const [before] = await ctx.db.select().from(uploads).where(same);
  if (before) return { upload: await requeueIfStranded(ctx, before), created: false };

  const fileKey = `uploads/${input.shopId}/${fileHash}.csv`;
  // Same key for the same bytes: a retried request writes the same object again, harmlessly.
  await ctx.files.put(fileKey, bytes, { httpMetadata: { contentType: "text/csv" } });
  const created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [row] = await tx
      .insert(uploads)
      .values({
        id: uuidv7(),
        shopId: input.shopId,
        kind: input.kind,
        fileHash,
        fileKey,
        sizeBytes: bytes.byteLength,
        createdBy: userId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return null;
    await audit.record({
      action: "upload.created",
      entityType: "upload",
      entityId: row.id,
      newValue: uploadSummary(row),
    });
    return row;
  });
  if (!created) {
    // A twin request with the same bytes wrote it between our look and our insert.
    const [twin] = await ctx.db.select().from(uploads).where(same);
    if (!twin) throw new Error(`upload of ${fileHash} was neither inserted nor found`);
    return { upload: uploadView(twin), created: false };
  }
  await ctx.imports.send({ kind: "csv", uploadId: created.id });
  return { upload: uploadView(created), created: true };
}

/** A queued upload this old when its bytes come again has surely lost its message. */
const STRANDED_AFTER_MS = 5 * 60_000;

/**
 * An upload still queued long after it was made when its bytes come again may have lost its
 * message (the send failed after the row committed): send it again. Running twice would be
 * harmless (rows are applied once), but a fresh upload's message is simply on its way.
 */
async function requeueIfStranded(ctx: ServiceContext, upload: Upload): Promise<UploadView> {
  const waited = Date.now() - upload.updatedAt.getTime();
  if (upload.status === "queued" && waited > STRANDED_AFTER_MS) {
    await ctx.imports.send({ kind: "csv", uploadId: upload.id });
  }
  return uploadView(upload);
}

/** The upload, for a member of its shop allowed its kind; anyone else: 404 as if absent. */
async function requireUpload(ctx: ServiceContext, userId: string, id: string): Promise<Upload> {
  const [upload] = await ctx.db.select().from(uploads).where(eq(uploads.id, id));
  if (!upload) throw new NotFound("upload", id);
  try {
    await requireShopPermission(ctx.db, upload.shopId, userId, PERMISSION[upload.kind]);
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") throw new NotFound("upload", id);
    throw err;
  }
  return upload;
}

/** One upload with its status, counts and row errors (owner, manager). */
export async function getUpload(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<UploadView> {
  return uploadView(await requireUpload(ctx, userId, id));
}

async function listWhere(
  ctx: ServiceContext,
  q: { limit: number; cursor?: string | undefined; status?: string | undefined },
  ...conditions: ReturnType<typeof eq>[]
): Promise<Page<UploadSummary>> {
  const after = afterId(q.cursor);
  const statuses = q.status ? (q.status.split(",") as UploadStatus[]) : null;
  const rows = await ctx.db
    .select()
    .from(uploads)
    .where(
      and(
        ...conditions,
        statuses ? inArray(uploads.status, statuses) : undefined,
        after ? lt(uploads.id, after) : undefined,
      ),
    )
    .orderBy(desc(uploads.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (u) => ({ id: u.id }));
  return { items: page.items.map(uploadSummary), nextCursor: page.nextCursor };
}

/** The shop's uploads, newest first, by status (one or several) and kind (owner, manager). */
export async function listUploads(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof uploadListQuery>,
): Promise<Page<UploadSummary>> {
  const q = parseOr422(uploadListQuery, raw, "query");
  await requireShopPermission(ctx.db, q.shopId, userId, LIST_PERMISSION);
  return listWhere(
    ctx,
    q,
    eq(uploads.shopId, q.shopId),
    ...(q.kind ? [eq(uploads.kind, q.kind)] : []),
  );
}

/** Every shop's uploads for admins, newest first: `status=failed,partially_failed` finds trouble. */
export async function listAllUploads(
  ctx: ServiceContext,
  raw: z.input<typeof adminUploadListQuery>,
): Promise<Page<UploadSummary>> {
  const q = parseOr422(adminUploadListQuery, raw, "query");
  return listWhere(
    ctx,
    q,
    ...(q.shopId ? [eq(uploads.shopId, q.shopId)] : []),
    ...(q.kind ? [eq(uploads.kind, q.kind)] : []),
  );
}

/** Any upload, for an admin. */
export async function getAnyUpload(ctx: ServiceContext, id: string): Promise<UploadView> {
  const [upload] = await ctx.db.select().from(uploads).where(eq(uploads.id, id));
  if (!upload) throw new NotFound("upload", id);
  return uploadView(upload);
}

/**
 * Queues a finished upload's failed rows again (owner, manager), once what failed them is
 * fixed (the product created, stock counted). The rows that succeeded are skipped by the run:
 * nothing is applied twice. Only a `failed` or `partially_failed` upload can be retried (409
 * otherwise); one audit row `upload.retried`.
 */
export async function retryUpload(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<UploadView> {
  const before = await requireUpload(ctx, userId, id);
  const after = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [row] = await tx
      .update(uploads)
      .set({
        status: "queued",
        attempts: sql`${uploads.attempts} + 1`,
        finishedAt: null,
        updatedAt: new Date(),
      })
      .where(and(eq(uploads.id, id), inArray(uploads.status, RETRYABLE)))
      .returning();
    if (!row) return null;
    await audit.record({
      action: "upload.retried",
      entityType: "upload",
      entityId: id,
      oldValue: uploadSummary(before),
      newValue: uploadSummary(row),
    });
    return row;
  });
  if (!after) {
    throw new Conflict(
      `Upload ${id} is ${before.status}; only a failed or partially failed upload can be retried.`,
      { currentStatus: before.status },
    );
  }
  await ctx.imports.send({ kind: "csv", uploadId: id });
  return uploadView(after);
}
