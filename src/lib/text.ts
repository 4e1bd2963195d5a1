/**
 * Text a client sends that ends up in Postgres. Postgres `text` cannot hold U+0000 (the query
 * fails, which was a 500), and an unpaired UTF-16 surrogate is not a character at all: it cannot
 * be encoded as UTF-8, and JSON holding one is refused by `jsonb`. Every schema that takes free
 * text from a client starts from `text()`, so such input is a 422 naming its field instead.
 */
import { z } from "zod";

// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only an unpaired half.
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether Postgres can store the string as text: no U+0000, no unpaired surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes("\u0000") && !LONE_SURROGATE.test(s);
}

/** A string schema refusing what Postgres refuses; chain `.trim().min().max()` after it. */
export function text() {
  return z.string().refine(isStorableText, {
    message: "must not contain U+0000 (NUL) or an unpaired surrogate",
  });
}

/** `q` with LIKE's wildcards and escape character escaped, to match literally. */
export const escapeLike = (q: string): string => q.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A LIKE pattern matching text that contains `q` literally. */
export const containsPattern = (q: string): string => `%${escapeLike(q)}%`;

/** A LIKE pattern matching text that starts with `prefix` literally. */
export const prefixPattern = (prefix: string): string => `${escapeLike(prefix)}%`;
