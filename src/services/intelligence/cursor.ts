import type { z } from "zod";
import { decodeCursor } from "../../lib/pagination.ts";
import { ValidationFailed } from "../errors.ts";

/** A list's keyset from its `cursor` query parameter; null without one, 422 when it is garbage. */
export function keysetOr422<T>(cursor: string | undefined, schema: z.ZodType<T>): T | null {
  if (!cursor) return null;
  const decoded = decodeCursor(cursor, schema);
  if (!decoded) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  return decoded;
}
