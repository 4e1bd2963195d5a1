import { runInDurableObject } from "cloudflare:test";
import type { AuctionRoom } from "../../durable-objects/auction-room.ts";
import type { ProductStock } from "../../durable-objects/product-stock.ts";

/**
 * What tests do to an object that no caller in production may: run inside the object
 * (`runInDurableObject`), on its storage and its private state, so the object classes carry no
 * test-only RPC methods.
 */
type MirroredObject = DurableObjectStub<ProductStock> | DurableObjectStub<AuctionRoom>;

/** The private members of the objects these hooks reach (checked by the tests that use them). */
interface Inside {
  store: { setMeta(key: string, value: string | null): void };
  scheduleAlarm(force: boolean): Promise<void>;
}
interface RoomInside extends Inside {
  clockOffsetMs: number;
  now(): number;
  hub: { setFrameBatchMs(ms: number): void; readonly frameBatchMs: number };
  config(): { AUCTION_FRAME_BATCH_MS: number } | null;
}
const inside = (obj: ProductStock | AuctionRoom) => obj as unknown as Inside;
const roomInside = (room: AuctionRoom) => room as unknown as RoomInside;

/**
 * Aims every flush of this object (its alarm's too) at another database URL, to simulate
 * Postgres being down; `null` restores DATABASE_URL and lets the next alarm retry at once.
 */
export async function aimMirror(stub: MirroredObject, databaseUrl: string | null): Promise<void> {
  await runInDurableObject(stub, async (obj: ProductStock | AuctionRoom, state) => {
    const { store } = inside(obj);
    state.storage.transactionSync(() => {
      store.setMeta("mirror_target", databaseUrl);
      store.setMeta("mirror_retry_at", null);
    });
    await inside(obj).scheduleAlarm(false);
  });
}

/**
 * Moves a room's clock by `offsetMs`, so a test can stand 30 s before the end without waiting:
 * every time the room uses (bids, the end, the close) reads the shifted clock, and its alarm is
 * set again on it. Kept in its meta, which the room reads back (in tests only) if evicted.
 * Returns the room's now.
 */
export async function shiftRoomClock(
  stub: DurableObjectStub<AuctionRoom>,
  offsetMs: number,
): Promise<{ now: string }> {
  return runInDurableObject(stub, async (obj: AuctionRoom, state) => {
    const room = roomInside(obj);
    state.storage.transactionSync(() => room.store.setMeta("clock_offset_ms", String(offsetMs)));
    room.clockOffsetMs = offsetMs;
    await room.scheduleAlarm(true);
    return { now: new Date(room.now()).toISOString() };
  });
}

/**
 * Overrides AUCTION_FRAME_BATCH_MS for one room (kept in its meta, as the room reads it when it
 * starts); `null` returns to the configured value. Returns the room's batching now.
 */
export async function setRoomFrameBatch(
  stub: DurableObjectStub<AuctionRoom>,
  ms: number | null,
): Promise<number> {
  return runInDurableObject(stub, (obj: AuctionRoom, state) => {
    const room = roomInside(obj);
    state.storage.transactionSync(() =>
      room.store.setMeta("frame_batch_ms", ms === null ? null : String(ms)),
    );
    room.hub.setFrameBatchMs(ms ?? room.config()?.AUCTION_FRAME_BATCH_MS ?? 0);
    return room.hub.frameBatchMs;
  });
}
