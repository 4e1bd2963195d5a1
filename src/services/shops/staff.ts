import { and, asc, eq, gt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { shopMembers } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { requireShopPermission } from "./access.ts";
import { memberRole } from "./queries.ts";

export interface StaffMemberView {
  userId: string;
  email: string;
  displayName: string;
  role: "owner" | "manager" | "staff";
  addedAt: string;
}

const memberCursor = z.object({ userId: z.uuid() });

/** The shop's team, owner included, in the order they joined (ids are time-sortable). */
export async function listStaff(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<StaffMemberView>> {
  // Any member may see who they work with; to everyone else the shop does not exist here.
  if (!(await memberRole(ctx.db, shopId, userId))) throw new NotFound("shop", shopId);
  const after = query.cursor ? decodeCursor(query.cursor, memberCursor) : null;
  if (query.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  const rows = await ctx.db
    .select({
      userId: shopMembers.userId,
      email: users.email,
      displayName: users.displayName,
      role: shopMembers.role,
      createdAt: shopMembers.createdAt,
    })
    .from(shopMembers)
    .innerJoin(users, eq(users.id, shopMembers.userId))
    .where(
      and(eq(shopMembers.shopId, shopId), after ? gt(shopMembers.userId, after.userId) : undefined),
    )
    .orderBy(asc(shopMembers.userId))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (m) => ({ userId: m.userId }));
  return {
    items: page.items.map((m) => ({
      userId: m.userId,
      email: m.email,
      displayName: m.displayName,
      role: m.role,
      addedAt: m.createdAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}

/** The owner removes a manager or staff member. The owner cannot be removed (409). */
export async function removeStaff(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  memberId: string,
): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await requireShopPermission(tx, shopId, userId, "team.manage");
    const own = and(eq(shopMembers.shopId, shopId), eq(shopMembers.userId, memberId));
    const [member] = await tx.select().from(shopMembers).where(own).for("update");
    if (!member) throw new NotFound("shop member", memberId);
    if (member.role === "owner") throw new Conflict("The shop's owner cannot be removed.");
    // A hard delete: permission checks read this table, so a removed member must be gone.
    await tx.delete(shopMembers).where(own);
    await audit.record({
      action: "shop.member.removed",
      entityType: "shop",
      entityId: shopId,
      oldValue: { userId: memberId, role: member.role },
    });
  });
}
