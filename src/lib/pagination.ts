import { z } from "@hono/zod-openapi";

/** `limit` and `cursor` query parameters shared by every list. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." }),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Opaque cursors: base64url JSON, so their shape can change without breaking clients' code. */
export function encodeCursor(value: unknown): string {
  const s = JSON.stringify(value);
  return btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Decodes a cursor against the shape it must have; null for garbage (callers answer 422). */
export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T | null {
  try {
    const b64 = cursor.replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Given `limit + 1` rows, the page and the cursor of its last row when more remain. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => unknown): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
