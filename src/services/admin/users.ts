import { and, desc, eq, ilike, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { users } from "../../db/schema/users.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { containsPattern } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";

export interface UserListQuery {
  limit: number;
  cursor?: string | undefined;
  /** A substring of the email or the display name, case-insensitive. */
  q?: string | undefined;
  role?: "buyer" | "seller" | "admin" | undefined;
  blocked?: boolean | undefined;
}

export interface AdminUserListItem {
  id: string;
  email: string;
  displayName: string;
  role: "buyer" | "seller" | "admin";
  blocked: boolean;
  blockedAt: string | null;
  blockedReason: string | null;
  createdAt: string;
  deletedAt: string | null;
  /** Strikes for unpaid auction wins, all time (the detail has the history). */
  strikeCount: number;
}

/** Escapes ILIKE's wildcards so a search for `50%` finds that text. */
/** Users for admins, newest first (ids are uuidv7), searched and filtered, with strike counts. */
export async function listUsersForAdmin(
  ctx: ServiceContext,
  q: UserListQuery,
): Promise<Page<AdminUserListItem>> {
  const after = afterId(q.cursor);
  // Written out in full: drizzle renders columns unqualified in a select list, and an
  // unqualified "id" inside the subquery would mean the strike's id, not the user's.
  const strikeCount = sql<number>`(select count(*)::int from user_strikes s where s.user_id = "users"."id")`;
  const rows = await ctx.db
    .select({ user: users, strikeCount })
    .from(users)
    .where(
      and(
        q.q
          ? or(
              ilike(users.email, containsPattern(q.q)),
              ilike(users.displayName, containsPattern(q.q)),
            )
          : undefined,
        q.role ? eq(users.role, q.role) : undefined,
        q.blocked === undefined
          ? undefined
          : q.blocked
            ? isNotNull(users.blockedAt)
            : isNull(users.blockedAt),
        after ? lt(users.id, after) : undefined,
      ),
    )
    .orderBy(desc(users.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.user.id }));
  return {
    items: page.items.map(({ user: u, strikeCount: n }) => ({
      id: u.id,
      email: u.email,
      displayName: u.displayName,
      role: u.role,
      blocked: u.blockedAt !== null,
      blockedAt: u.blockedAt?.toISOString() ?? null,
      blockedReason: u.blockedReason,
      createdAt: u.createdAt.toISOString(),
      deletedAt: u.deletedAt?.toISOString() ?? null,
      strikeCount: Number(n),
    })),
    nextCursor: page.nextCursor,
  };
}
