import { invalidParam } from "./errors.ts";
import type { FormObject } from "./form.ts";
import type { ListObject } from "./objects.ts";
import { optInt, optString } from "./params.ts";

/**
 * A Stripe list page over items already filtered and sorted newest first: `limit` (1-100,
 * default 10), `starting_after` / `ending_before` cursors, `has_more`, `url`.
 */
export function paginate<T extends { id: string }>(
  items: T[],
  params: FormObject,
  url: string,
): ListObject<T> {
  const limit = optInt(params, "limit", 1) ?? 10;
  if (limit > 100) throw invalidParam("Invalid limit: must be at most 100", "limit");
  const after = optString(params, "starting_after");
  const before = optString(params, "ending_before");
  if (after && before) {
    throw invalidParam(
      "You may only specify one of these parameters: ending_before, starting_after.",
      "starting_after",
    );
  }
  if (before) {
    const i = items.findIndex((x) => x.id === before);
    if (i === -1) throw invalidParam(`No such object: '${before}'`, "ending_before");
    const start = Math.max(0, i - limit);
    return { object: "list", data: items.slice(start, i), has_more: start > 0, url };
  }
  let start = 0;
  if (after) {
    const i = items.findIndex((x) => x.id === after);
    if (i === -1) throw invalidParam(`No such object: '${after}'`, "starting_after");
    start = i + 1;
  }
  const data = items.slice(start, start + limit);
  return { object: "list", data, has_more: start + limit < items.length, url };
}

/** The pagination parameters every list endpoint accepts. */
export const LIST_PARAMS = ["limit", "starting_after", "ending_before", "created"] as const;
