import { and, desc, eq, gte, lt } from "drizzle-orm";
import { platformFeedback } from "../../db/schema/community.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";

export interface PlatformFeedbackQuery {
  limit: number;
  cursor?: string | undefined;
  rating?: number | undefined;
  category?: string | undefined;
  /** Only feedback left at or after this instant. */
  since?: Date | undefined;
}

export interface AdminPlatformFeedbackView {
  id: string;
  userId: string;
  rating: number;
  comment: string;
  category: string | null;
  createdAt: string;
}

/**
 * What users told us about Souk itself (`POST /v1/feedback`), newest first, for admins. The
 * uuidv7 id is the whole keyset, as in the other admin lists.
 */
export async function listPlatformFeedback(
  ctx: ServiceContext,
  q: PlatformFeedbackQuery,
): Promise<Page<AdminPlatformFeedbackView>> {
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(platformFeedback)
    .where(
      and(
        q.rating ? eq(platformFeedback.rating, q.rating) : undefined,
        q.category ? eq(platformFeedback.category, q.category) : undefined,
        q.since ? gte(platformFeedback.createdAt, q.since) : undefined,
        after ? lt(platformFeedback.id, after) : undefined,
      ),
    )
    .orderBy(desc(platformFeedback.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return {
    items: page.items.map((r) => ({
      id: r.id,
      userId: r.userId,
      rating: r.rating,
      comment: r.comment,
      category: r.category,
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}
