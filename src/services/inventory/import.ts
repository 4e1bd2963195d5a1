/**
 * CSV stock import: `sku,location,quantity[,threshold]`, one absolute count per product and
 * location. Every row is checked before anything is applied; one bad row and the whole file is
 * refused with every problem listed. A clean file is applied as one all-or-nothing bulk
 * operation (the two-phase coordinator in ./bulk.ts), then the thresholds it names are set.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { MAX_QUANTITY } from "../../../durable-objects/product-stock/types.ts";
import type { Movement, SetThresholdResult } from "../../../durable-objects/product-stock.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { products } from "../../db/schema/catalog.ts";
import type { ServiceContext } from "../context.ts";
import { DomainError, type FieldError, ValidationFailed } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { shopLocationsOf } from "./access.ts";
import { afterManyMovements } from "./alerts.ts";
import { forgetAvailability } from "./availability.ts";
import { type BulkLine, runBulk } from "./bulk.ts";
import { inParallel } from "./parallel.ts";

export const MAX_IMPORT_ROWS = 5_000;
/**
 * Above the 1 MiB every other body gets: 5,000 rows of a spreadsheet export (every field quoted,
 * long SKUs and location codes, a threshold column) can pass 1 MiB.
 */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

const REQUIRED = ["sku", "location", "quantity"] as const;
const OPTIONAL = ["threshold"] as const;
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

/** One problem with the file; `row` is the line the record starts on (the header is row 1). */
export interface RowProblem {
  row: number;
  column: Column | null;
  reason: string;
}

export interface CsvRecord {
  /** The line the record starts on, 1-based. */
  line: number;
  fields: string[];
}

/**
 * Splits CSV text into records (RFC 4180: comma separated, `"` quoted with `""` escapes, CRLF
 * or LF). Blank lines are skipped. An unterminated quote is reported on the line it opened.
 */
export function parseCsv(text: string): { records: CsvRecord[]; problem: RowProblem | null } {
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 1;
  let touched = false;
  const endRecord = () => {
    fields.push(field);
    if (touched || fields.length > 1 || field !== "") records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    touched = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      touched = true;
      quoteLine = line;
    } else if (ch === ",") {
      fields.push(field);
      field = "";
      touched = true;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && src[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) {
    return { records, problem: { row: quoteLine, column: null, reason: "unterminated quote" } };
  }
  endRecord();
  return { records, problem: null };
}

export interface ImportRow {
  row: number;
  sku: string;
  location: string;
  quantity: number;
  /** Undefined: the file leaves the threshold as it is. */
  threshold: number | undefined;
}

function count(raw: string, column: Column, row: number, problems: RowProblem[]): number | null {
  const v = raw.trim();
  if (v === "") {
    problems.push({ row, column, reason: "is empty" });
    return null;
  }
  if (/^-\d+$/.test(v)) {
    problems.push({ row, column, reason: `must not be negative (got ${v})` });
    return null;
  }
  if (!/^\+?\d+$/.test(v)) {
    problems.push({ row, column, reason: `must be a whole number (got ${v.slice(0, 40)})` });
    return null;
  }
  const n = Number(v);
  if (n > MAX_QUANTITY) {
    problems.push({ row, column, reason: `must be at most ${MAX_QUANTITY}` });
    return null;
  }
  return n;
}

/** Checks the file's structure and each row's values (no database): header, widths, numbers. */
export function readInventoryCsv(text: string): { rows: ImportRow[]; problems: RowProblem[] } {
  const { records, problem } = parseCsv(text);
  const problems: RowProblem[] = problem ? [problem] : [];
  const [header, ...data] = records;
  if (!header) {
    problems.push({ row: 1, column: null, reason: "the file is empty; a header row is required" });
    return { rows: [], problems };
  }
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const known = new Set<string>([...REQUIRED, ...OPTIONAL]);
  for (const name of names) {
    if (!known.has(name)) {
      problems.push({
        row: header.line,
        column: null,
        reason: `unknown column "${name.slice(0, 40)}"; expected sku,location,quantity[,threshold]`,
      });
    }
  }
  for (const name of REQUIRED) {
    if (!names.includes(name)) {
      problems.push({ row: header.line, column: name, reason: `the header lacks "${name}"` });
    }
  }
  if (new Set(names).size !== names.length) {
    problems.push({ row: header.line, column: null, reason: "the header repeats a column" });
  }
  if (problems.length > 0) return { rows: [], problems };
  if (data.length === 0) {
    problems.push({ row: header.line, column: null, reason: "the file has no data rows" });
  }
  if (data.length > MAX_IMPORT_ROWS) {
    problems.push({
      row: header.line,
      column: null,
      reason: `the file has ${data.length} data rows; at most ${MAX_IMPORT_ROWS} per import`,
    });
    return { rows: [], problems };
  }
  const at = (name: Column) => names.indexOf(name);
  const rows: ImportRow[] = [];
  for (const rec of data) {
    if (rec.fields.length !== names.length) {
      problems.push({
        row: rec.line,
        column: null,
        reason: `has ${rec.fields.length} columns; the header has ${names.length}`,
      });
      continue;
    }
    const field = (name: Column) => (rec.fields[at(name)] ?? "").trim();
    const before = problems.length;
    const sku = field("sku");
    const location = field("location");
    if (sku === "") problems.push({ row: rec.line, column: "sku", reason: "is empty" });
    if (location === "") problems.push({ row: rec.line, column: "location", reason: "is empty" });
    const quantity = count(field("quantity"), "quantity", rec.line, problems);
    const thresholdRaw = at("threshold") >= 0 ? field("threshold") : "";
    const threshold =
      thresholdRaw === "" ? undefined : count(thresholdRaw, "threshold", rec.line, problems);
    if (problems.length > before || quantity === null || threshold === null) continue;
    rows.push({ row: rec.line, sku, location, quantity, threshold });
  }
  return { rows, problems };
}

export interface ImportSummary {
  operationId: string;
  rows: number;
  products: number;
  locations: number;
  /** Rows whose count differed from on hand (the others were already right). */
  changed: number;
  thresholdsSet: number;
}

function refuse(problems: RowProblem[]): DomainError {
  const sorted = [...problems].sort((a, b) => a.row - b.row);
  const errors: FieldError[] = sorted.map((p) => ({
    field: p.column ? `rows.${p.row}.${p.column}` : `rows.${p.row}`,
    in: "body",
    message: p.reason,
  }));
  const rows = [...new Set(sorted.map((p) => p.row))];
  return new DomainError(
    "VALIDATION_FAILED",
    `The file has ${sorted.length} problem(s) on row(s) ${rows.slice(0, 20).join(", ")}` +
      `${rows.length > 20 ? ", …" : ""}; nothing was applied.`,
    { errors, rows: sorted },
  );
}

/**
 * Imports a shop's stock counts from CSV (owner, manager): see the module comment. `source` is
 * the text, or a reader of it that is called after the permission check. Unknown
 * SKUs (live products of this shop) and location codes, bad numbers, wrong widths and repeated
 * SKU + location pairs are all reported at once (422, nothing applied).
 */
export async function importInventory(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  source: string | (() => Promise<string>),
  idempotencyKey?: string,
): Promise<ImportSummary> {
  await requireShopPermission(ctx.db, shopId, userId, "stock.write");
  // Read only once the caller may import: a stranger learns nothing from the size check.
  const text = typeof source === "string" ? source : await source();
  if (new TextEncoder().encode(text).byteLength > MAX_IMPORT_BYTES) {
    throw new ValidationFailed([
      { field: "body", in: "body", message: `must be at most ${MAX_IMPORT_BYTES} bytes` },
    ]);
  }
  const { rows, problems } = readInventoryCsv(text);
  const skus = [...new Set(rows.map((r) => r.sku))];
  const [found, locations] = await Promise.all([
    skus.length === 0
      ? Promise.resolve([])
      : ctx.db
          .select({ id: products.id, sku: products.sku })
          .from(products)
          .where(
            and(
              eq(products.shopId, shopId),
              inArray(products.sku, skus),
              isNull(products.deletedAt),
            ),
          ),
    shopLocationsOf(ctx.db, shopId),
  ]);
  const productBySku = new Map(found.map((p) => [p.sku, p.id]));
  const locationByCode = new Map(locations.map((l) => [l.code, l.id]));
  const firstRow = new Map<string, number>();
  const lines: Array<BulkLine & { row: number; threshold: number | undefined }> = [];
  for (const r of rows) {
    const productId = productBySku.get(r.sku);
    const locationId = locationByCode.get(r.location);
    if (!productId) {
      problems.push({
        row: r.row,
        column: "sku",
        reason: `no product of this shop has SKU ${r.sku}`,
      });
    }
    if (!locationId) {
      problems.push({
        row: r.row,
        column: "location",
        reason: `no location of this shop has code ${r.location}`,
      });
    }
    const pair = `${r.sku}\u0000${r.location}`;
    const first = firstRow.get(pair);
    if (first !== undefined) {
      problems.push({
        row: r.row,
        column: null,
        reason: `repeats SKU ${r.sku} at ${r.location} from row ${first}`,
      });
      continue;
    }
    firstRow.set(pair, r.row);
    if (productId && locationId) {
      lines.push({
        productId,
        locationId,
        mode: "set",
        quantity: r.quantity,
        row: r.row,
        threshold: r.threshold,
      });
    }
  }
  if (problems.length > 0) throw refuse(problems);

  const result = await runBulk(ctx, {
    shopId,
    source: "import",
    reason: `CSV import of ${lines.length} row(s)`,
    lines: lines.map(({ productId, locationId, mode, quantity }) => ({
      productId,
      locationId,
      mode,
      quantity,
    })),
    idempotencyKey,
    rowOf: (index) => lines[index]?.row ?? 0,
  });

  // Thresholds are idempotent by value, so a retried import sets them again harmlessly.
  const thresholds = lines.filter((l) => l.threshold !== undefined);
  const set = await inParallel<(typeof thresholds)[number], SetThresholdResult>(
    thresholds,
    async (l) =>
      stockOf(ctx.stock, l.productId).setThreshold({
        productId: l.productId,
        shopId,
        locationId: l.locationId,
        threshold: l.threshold ?? null,
        actor: ctx.actor,
      }),
  );
  const moved = new Map<string, Movement[]>();
  set.forEach((s, i) => {
    const productId = thresholds[i]?.productId;
    if (!productId || !s.ok || !s.value.movement) return;
    moved.set(productId, [...(moved.get(productId) ?? []), s.value.movement]);
  });
  await afterManyMovements(
    ctx,
    [...moved].map(([productId, movements]) => ({ productId, movements })),
  );
  await forgetAvailability(ctx.cache, ...moved.keys());
  const failed = set.filter((s) => !s.ok).length;
  if (failed > 0) {
    ctx.logger.error("import applied but some thresholds could not be set", {
      operationId: result.operationId,
      failed,
    });
  }
  return {
    operationId: result.operationId,
    rows: lines.length,
    products: result.products,
    locations: new Set(lines.map((l) => l.locationId)).size,
    changed: result.movements.filter((m) => m.deltaOnHand !== 0).length,
    thresholdsSet: [...moved.values()].reduce((n, m) => n + m.length, 0),
  };
}
