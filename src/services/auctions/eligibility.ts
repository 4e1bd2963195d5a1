import { and, eq, inArray } from "drizzle-orm";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import type { Queryable } from "../../db/client.ts";
import { auctions, bids } from "../../db/schema/auctions.ts";
import type { Logger } from "../../lib/logger.ts";
import type { RoomNamespace } from "../context.ts";

/**
 * Tells the rooms of every open auction `userId` bid in that their standing changed (a block or
 * a strike), so each forgets it found them eligible and asks Postgres at their next bid there.
 * Call after the block committed: a room asked before the commit could re-check and see the old
 * standing. Awaited, so when the block returns the rooms know: the very next bid is refused.
 *
 * Bids the rooms accepted but have not yet mirrored into `bids` are not found here; the mirror
 * re-reads the bidders' block under a share lock with each batch it writes and makes the room
 * forget them (durable-objects/auction-room/mirror.ts). Rooms the user never bid in hold nothing
 * to forget: their first bid there is checked in Postgres.
 */
export async function tellRoomsOfBlock(
  ctx: { db: Queryable; rooms: RoomNamespace; logger: Logger },
  userId: string,
): Promise<{ rooms: number; failed: number }> {
  const rows = await ctx.db
    .selectDistinct({ auctionId: bids.auctionId })
    .from(bids)
    .innerJoin(auctions, eq(auctions.id, bids.auctionId))
    .where(and(eq(bids.bidderId, userId), inArray(auctions.status, ["scheduled", "active"])));
  const outcomes = await Promise.allSettled(
    rows.map(async ({ auctionId }) => {
      const room = roomOf(ctx.rooms, auctionId);
      try {
        await room.reverify({ userId });
      } catch {
        // One retry: an object being replaced or moved answers the next call.
        await roomOf(ctx.rooms, auctionId).reverify({ userId });
      }
    }),
  );
  const failed = outcomes.filter((o) => o.status === "rejected").length;
  if (failed > 0) {
    ctx.logger.error("auction rooms not told of a block", { userId, failed, rooms: rows.length });
  }
  return { rooms: rows.length, failed };
}
