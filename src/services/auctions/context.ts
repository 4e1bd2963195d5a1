import { type AuctionRoom, roomOf } from "../../../durable-objects/auction-room.ts";
import type { Redis } from "../../lib/redis.ts";
import type { ServiceContext } from "../context.ts";
import type { NotificationQueue } from "../notifications/notify.ts";

export type RoomNamespace = DurableObjectNamespace<AuctionRoom>;
export type RoomStub = DurableObjectStub<AuctionRoom>;

/**
 * What auction services need beyond the database: the AuctionRoom objects, the notifications
 * queue, and Redis (the bid rate limit and the summary cache; null when not configured).
 */
export interface AuctionContext extends ServiceContext {
  rooms: RoomNamespace;
  queue: NotificationQueue;
  redis: Redis | null;
}

/** The one object that runs an auction (defined beside the class, re-exported for services). */
export { roomOf };
