/**
 * Reading an upload's CSV (no database): the header checked against the kind's columns, each
 * data row's cells by column name, and the small parsers for whole numbers, amounts and dates
 * that name the column when a cell is wrong. Rows are numbered by the line they start on (the
 * header is row 1), as the synchronous stock import numbers them.
 */
import type { UploadKind, UploadRowError } from "../../db/schema/uploads.ts";
import { MAX_IMPORT_ROWS, parseCsv } from "../inventory/import.ts";

export const UPLOAD_COLUMNS = {
  transactions: {
    required: ["sku", "quantity", "unit_price", "sold_at"],
    optional: ["customer_email", "customer_phone", "customer_name", "location"],
  },
  inventory: {
    required: ["sku", "location", "quantity"],
    optional: ["title", "price", "currency", "category", "threshold"],
  },
} as const satisfies Record<UploadKind, { required: string[]; optional: string[] }>;

/** One data row: its line and its trimmed cells by column (`""` for a column the file lacks). */
export interface CsvRow {
  row: number;
  cell(column: string): string;
}

export interface CsvTable {
  /** Every data row, the malformed ones included (they count in the upload's total). */
  total: number;
  /** The rows whose width matches the header. */
  rows: CsvRow[];
  /** Problems of the file itself (header, quoting, size): nothing can be applied. */
  fileProblems: UploadRowError[];
  /** Rows refused before any value is read (a wrong number of cells). */
  rowProblems: UploadRowError[];
}

/** The expected header, for messages: `sku,quantity,unit_price,sold_at[,customer_email,…]`. */
export function expectedHeader(kind: UploadKind): string {
  const { required, optional } = UPLOAD_COLUMNS[kind];
  return `${required.join(",")}[,${optional.join(",")}]`;
}

/** Splits the file into rows by column name and checks its header against the kind's columns. */
export function readTable(text: string, kind: UploadKind): CsvTable {
  const { records, problem } = parseCsv(text);
  const fileProblems: UploadRowError[] = [];
  const empty = { total: 0, rows: [], fileProblems, rowProblems: [] };
  if (problem) fileProblems.push({ row: problem.row, field: null, message: problem.reason });
  const [header, ...data] = records;
  if (!header) {
    fileProblems.push({ row: 1, field: null, message: "the file is empty; a header is required" });
    return empty;
  }
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const { required, optional } = UPLOAD_COLUMNS[kind];
  const known = new Set<string>([...required, ...optional]);
  for (const name of names) {
    if (!known.has(name)) {
      fileProblems.push({
        row: header.line,
        field: name.slice(0, 40),
        message: `is not a column of a ${kind} upload; expected ${expectedHeader(kind)}`,
      });
    }
  }
  for (const name of required) {
    if (!names.includes(name)) {
      fileProblems.push({ row: header.line, field: name, message: "is missing from the header" });
    }
  }
  if (new Set(names).size !== names.length) {
    fileProblems.push({ row: header.line, field: null, message: "the header repeats a column" });
  }
  if (data.length === 0) {
    fileProblems.push({ row: header.line, field: null, message: "the file has no data rows" });
  }
  if (data.length > MAX_IMPORT_ROWS) {
    fileProblems.push({
      row: header.line,
      field: null,
      message: `the file has ${data.length} data rows; at most ${MAX_IMPORT_ROWS} per upload`,
    });
  }
  if (fileProblems.length > 0) return empty;
  const index = new Map(names.map((n, i) => [n, i]));
  const rows: CsvRow[] = [];
  const rowProblems: UploadRowError[] = [];
  for (const rec of data) {
    if (rec.fields.length !== names.length) {
      rowProblems.push({
        row: rec.line,
        field: null,
        message: `has ${rec.fields.length} cells; the header has ${names.length}`,
      });
      continue;
    }
    const cell = (column: string) => {
      const i = index.get(column);
      return i === undefined ? "" : (rec.fields[i] ?? "").trim();
    };
    rows.push({ row: rec.line, cell });
  }
  return { total: data.length, rows, fileProblems, rowProblems };
}

/** Collects a row's problems, each naming its column. */
export class RowCheck {
  readonly errors: UploadRowError[] = [];
  constructor(readonly csv: CsvRow) {}

  fail(field: string | null, message: string): null {
    this.errors.push({ row: this.csv.row, field, message });
    return null;
  }

  /** A non-empty cell, at most `max` characters. */
  required(column: string, max = 200): string | null {
    const v = this.csv.cell(column);
    if (v === "") return this.fail(column, "is empty");
    if (v.length > max) return this.fail(column, `must be at most ${max} characters`);
    return v;
  }

  /** A whole number in [min, max]. */
  wholeNumber(column: string, min: number, max: number): number | null {
    const v = this.csv.cell(column);
    if (v === "") return this.fail(column, "is empty");
    if (!/^[+-]?\d+$/.test(v)) return this.fail(column, `must be a whole number (got ${clip(v)})`);
    const n = Number(v);
    if (n < min || n > max) return this.fail(column, `must be between ${min} and ${max}`);
    return n;
  }

  /** An amount in major units (`12.50` EUR, `1500` JPY) as minor units, never through a float. */
  amount(column: string, digits: 0 | 2): number | null {
    const v = this.csv.cell(column);
    if (v === "") return this.fail(column, "is empty");
    const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(v);
    const fraction = m?.[2] ?? "";
    if (!m || fraction.length > digits) {
      return this.fail(
        column,
        digits === 0
          ? `must be a whole amount (got ${clip(v)})`
          : `must be an amount with at most ${digits} decimals, like 12.50 (got ${clip(v)})`,
      );
    }
    return Number(m[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  }

  /** Runs `read` on the column unless its cell is empty (then `undefined`: left as it is). */
  optional<T>(column: string, read: (column: string) => T): T | undefined {
    return this.csv.cell(column) === "" ? undefined : read(column);
  }

  /** A date (`2026-03-01`, midnight UTC) or a date-time with its offset, as ISO 8601. */
  instant(column: string): string | null {
    const v = this.csv.cell(column);
    if (v === "") return this.fail(column, "is empty");
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
    const withOffset =
      /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
    const ms = Date.parse(dateOnly ? `${v}T00:00:00Z` : v.replace(" ", "T"));
    if ((!dateOnly && !withOffset.test(v)) || Number.isNaN(ms)) {
      return this.fail(
        column,
        `must be a date (2026-03-01) or a date-time with offset (2026-03-01T14:30:00Z); got ${clip(v)}`,
      );
    }
    return new Date(ms).toISOString();
  }
}

export function clip(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}
