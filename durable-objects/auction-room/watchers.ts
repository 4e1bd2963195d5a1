/**
 * The room's watchers: hibernatable WebSockets, and the frames they are sent. With batching off
 * (`AUCTION_FRAME_BATCH_MS=0`, the default) each frame goes out as its own message the moment
 * its change commits. With batching on, frames are buffered and every `batchMs` the buffer goes
 * out as ONE message holding a JSON array of frames, oldest first: under load one message per
 * interval per watcher instead of one per bid (Cloudflare suggests a frame every 50–100 ms).
 * Either way frames leave in `seq` order, and a socket sees every frame after its snapshot.
 */
import type { Frame } from "./types.ts";

export const MAX_FRAME_BATCH_MS = 1_000;

export class WatcherHub {
  private pending: Frame[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private batchMs: number,
  ) {}

  get frameBatchMs(): number {
    return this.batchMs;
  }

  /** Changes the interval; buffered frames go out first so none waits on the old timer. */
  setFrameBatchMs(ms: number): void {
    this.flush();
    this.batchMs = Math.max(0, Math.min(MAX_FRAME_BATCH_MS, Math.trunc(ms)));
  }

  /** Sockets accepted and not yet closed (hibernated ones included). */
  count(): number {
    return this.ctx.getWebSockets().length;
  }

  /** Sends (or buffers) frames already committed, in the order given. */
  emit(frames: Frame[]): void {
    if (frames.length === 0) return;
    if (this.batchMs <= 0) {
      for (const frame of frames) this.broadcast(JSON.stringify(frame));
      return;
    }
    this.pending.push(...frames);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Sends whatever is buffered now, as one message. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const message = JSON.stringify(this.pending);
    this.pending = [];
    this.broadcast(message);
  }

  private broadcast(message: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(message);
      } catch {
        // A socket closing under us: its close handler cleans up; the others still get it.
      }
    }
  }
}
