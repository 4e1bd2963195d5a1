import type { OutboxStore } from "./mirror-retry.ts";

/**
 * The `meta` key-value table and the `outbox` (sequence, JSON payload) table a Durable Object's
 * SQLite store keeps for its mirror, with the synchronous reads and writes `drainOutbox` needs.
 * A store extends it and creates both tables in its schema (see `OUTBOX_TABLES`). Call only
 * inside `transactionSync`.
 */
export const OUTBOX_TABLES = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  // A row leaves the outbox when Postgres has acknowledged it: "acked" is "deleted".
  `CREATE TABLE IF NOT EXISTS outbox (
    sequence INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  )`,
];

export interface SequencedRow<P> {
  sequence: number;
  payload: P;
}

/** The `meta` key-value table every object's store keeps (mirror retry times, cursors, flags). */
export class SqlMetaStore {
  constructor(protected readonly sql: SqlStorage) {}

  getMeta(key: string): string | null {
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    return row?.value ?? null;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec("DELETE FROM meta WHERE key = ?", key);
    else
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        value,
      );
  }
}

/** The meta table plus the (sequence, payload) outbox that `drainOutbox` reads and acknowledges. */
export class SqlOutboxStore<P> extends SqlMetaStore implements OutboxStore<SequencedRow<P>> {
  protected enqueue(sequence: number, payload: P): void {
    this.sql.exec(
      "INSERT INTO outbox (sequence, payload) VALUES (?, ?)",
      sequence,
      JSON.stringify(payload),
    );
  }

  hasPendingOutbox(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
  }

  pendingOutbox(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  outboxBatch(limit: number): Array<SequencedRow<P>> {
    return this.sql
      .exec<{ sequence: number; payload: string }>(
        "SELECT sequence, payload FROM outbox ORDER BY sequence LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ sequence: r.sequence, payload: JSON.parse(r.payload) as P }));
  }

  ackOutbox(lastSequence: number): void {
    this.sql.exec("DELETE FROM outbox WHERE sequence <= ?", lastSequence);
  }

  outboxFailed(lastSequence: number, error: string): void {
    this.sql.exec(
      "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE sequence <= ?",
      error,
      lastSequence,
    );
  }
}
