import { z } from "zod";
import { decodeCursor } from "../lib/pagination.ts";
import { ValidationFailed } from "./errors.ts";

const idCursor = z.object({ id: z.uuid() });

/** The `{ id }` keyset of a newest-first list, or 422 naming `cursor` when it is garbage. */
export function afterId(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const decoded = decodeCursor(cursor, idCursor);
  if (!decoded) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  return decoded.id;
}
