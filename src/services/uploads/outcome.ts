import type { Upload, UploadRowError } from "../../db/schema/uploads.ts";
import { DomainError, ValidationFailed } from "../errors.ts";

/** What applying one row came to: the ledger (`upload_rows`) keeps it. */
export type RowOutcome =
  | { status: "succeeded"; resultId: string | null }
  | { status: "failed"; errors: UploadRowError[] };

/** What every row of one run shares, read once. */
export interface RunScope {
  upload: Upload;
  /** The shop's currency: amounts are in it, and a row naming another is refused. */
  currency: string;
  /** Its minor-unit digits (2 for EUR, 0 for JPY). */
  digits: 0 | 2;
  /** The shop's live locations by code. */
  locations: Map<string, string>;
}

export const failed = (errors: UploadRowError[]): RowOutcome => ({ status: "failed", errors });

/**
 * A service's refusal of a row as the row's problems, each naming the CSV column the service's
 * field comes from (`columns`: service field → column; `domain` for a refusal that names no
 * field, like INSUFFICIENT_STOCK → `quantity`). Null for anything that is not a domain error
 * (Postgres or an object unreachable): the caller rethrows it so the queue delivers again, and
 * the rows already applied are skipped then.
 */
export function refusalOf(
  err: unknown,
  row: number,
  columns: Record<string, string>,
  domain: Partial<Record<DomainError["code"], string>> = {},
): UploadRowError[] | null {
  if (err instanceof ValidationFailed) {
    return err.errors.map((e) => ({ row, field: columns[e.field] ?? null, message: e.message }));
  }
  if (!(err instanceof DomainError)) return null;
  const named = typeof err.details.field === "string" ? columns[err.details.field] : undefined;
  return [{ row, field: named ?? domain[err.code] ?? null, message: err.message }];
}
