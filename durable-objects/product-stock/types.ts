/**
 * The RPC contract of the ProductStock Durable Object: input schemas (zod), result types and the
 * mapping of expected refusals to domain errors. Shared by the object and by the services that
 * call it, so neither side re-declares a shape.
 *
 * Error policy: expected refusals (not enough stock, already undone, expired reservation, reused
 * key …) come back as `{ ok: false, code, message, … }` values, because a thrown error loses its
 * class and fields across the RPC boundary. Programming errors (input that fails its schema, an
 * object addressed with the wrong productId) are thrown as plain `Error`s whose message starts
 * with a stable code: `VALIDATION_FAILED: …`, `PRODUCT_MISMATCH: …`, `SHOP_MISMATCH: …`.
 */
import { z } from "zod";
import type { Actor } from "../../src/db/audit.ts";
import { MOVEMENT_KINDS, type MovementKind } from "../../src/db/schema/stock.ts";
import { Conflict, DomainError, InsufficientStock, NotFound } from "../../src/lib/errors.ts";

/** Largest on-hand quantity: the mirror stores it in a Postgres `integer`. */
export const MAX_QUANTITY = 2_147_483_647;
export const RESERVATION_TTL_MS = { min: 1_000, max: 24 * 60 * 60 * 1_000 } as const;
export const PREPARE_TTL_MS = { min: 1_000, max: 60 * 60 * 1_000 } as const;
/** Most locations one prepare may touch on one product. */
export const MAX_PREPARE_OPS = 100;

export type { MovementKind };
export { MOVEMENT_KINDS };

/** Only movements a person decided can be undone; reservation lifecycle and undo itself cannot. */
export const UNDOABLE_KINDS: ReadonlySet<MovementKind> = new Set(["adjust", "set", "bulk"]);

const id = z.uuid();
const key = z.string().min(1).max(200);
const reason = z.string().trim().min(1).max(500);

export const actorSchema = z.object({
  type: z.enum(["user", "system", "stripe"]),
  id: z.uuid().nullish(),
  requestId: z.string().max(200).nullish(),
});

const target = { productId: id, shopId: id.optional() };

const quantityOpShape = {
  locationId: id,
  mode: z.enum(["delta", "set"]),
  /** `delta`: a non-zero signed integer; `set`: the counted quantity, zero or more. */
  quantity: z.int().min(-MAX_QUANTITY).max(MAX_QUANTITY),
};
const quantityOk = (op: { mode: "delta" | "set"; quantity: number }) =>
  op.mode === "delta" ? op.quantity !== 0 : op.quantity >= 0;
const quantityRule = {
  message: "a delta must not be zero; a set quantity must not be negative",
  path: ["quantity"],
};
const quantityOp = z.object(quantityOpShape).refine(quantityOk, quantityRule);

export const adjustInput = z
  .object({ ...target, ...quantityOpShape, key, reason, actor: actorSchema })
  .refine(quantityOk, quantityRule);

export const reserveInput = z.object({
  ...target,
  locationId: id,
  quantity: z.int().min(1).max(MAX_QUANTITY),
  ttlMs: z.int().min(RESERVATION_TTL_MS.min).max(RESERVATION_TTL_MS.max),
  key,
  actor: actorSchema.optional(),
  /**
   * A hold under this key that was released or expired is superseded by a new one instead of
   * being replayed. For callers whose key names an attempt that may be tried again after it
   * failed (a checkout retried under the same Idempotency-Key); an active or committed hold is
   * still replayed, so a retry never holds twice.
   */
  renew: z.boolean().optional(),
});

export const settleInput = z.object({ reservationId: id, actor: actorSchema.optional() });

export const undoInput = z
  .object({
    ...target,
    sequence: z.int().min(1).optional(),
    movementId: id.optional(),
    key,
    reason: reason.optional(),
    actor: actorSchema,
  })
  .refine((v) => (v.sequence === undefined) !== (v.movementId === undefined), {
    message: "give exactly one of sequence or movementId",
    path: ["sequence"],
  });

export const prepareInput = z.object({
  ...target,
  txId: key,
  ops: z
    .array(quantityOp)
    .min(1)
    .max(MAX_PREPARE_OPS)
    .refine((ops) => new Set(ops.map((o) => o.locationId)).size === ops.length, {
      message: "one op per location",
    }),
  ttlMs: z.int().min(PREPARE_TTL_MS.min).max(PREPARE_TTL_MS.max),
  reason: reason.optional(),
  actor: actorSchema,
});

export const preparedTxInput = z.object({ txId: key, actor: actorSchema.optional() });

export const setThresholdInput = z.object({
  ...target,
  locationId: id,
  /** `null` removes the threshold (and clears a raised alert, unless nothing is available). */
  threshold: z.int().min(0).max(MAX_QUANTITY).nullable(),
  actor: actorSchema,
});

export const movementsInput = z
  .object({
    afterSequence: z.int().min(0).default(0),
    limit: z.int().min(1).max(500).default(100),
  })
  .default({ afterSequence: 0, limit: 100 });

export type AdjustInput = z.input<typeof adjustInput>;
export type ReserveInput = z.input<typeof reserveInput>;
export type SettleInput = z.input<typeof settleInput>;
export type UndoInput = z.input<typeof undoInput>;
export type PrepareInput = z.input<typeof prepareInput>;
export type PreparedTxInput = z.input<typeof preparedTxInput>;
export type SetThresholdInput = z.input<typeof setThresholdInput>;
export type MovementsInput = z.input<typeof movementsInput>;

export interface ActorView {
  type: Actor["type"];
  id: string | null;
  requestId: string | null;
}

/** One sequenced change of one location's levels: what the mirror stores and audits. */
export interface Movement {
  /** UUIDv7; also the id of the `stock_movements` mirror row and its audit entity. */
  id: string;
  /** Strictly increasing per product, without gaps: 1, 2, 3 … */
  sequence: number;
  productId: string;
  shopId: string | null;
  locationId: string;
  kind: MovementKind;
  deltaOnHand: number;
  deltaReserved: number;
  onHandAfter: number;
  reservedAfter: number;
  availableAfter: number;
  /** The location's low-stock threshold after this movement. */
  threshold: number | null;
  /** Whether the location is low (available ≤ threshold) after this movement. */
  low: boolean;
  /**
   * Set when this movement crossed into or out of alert: `raised` when available falls to the
   * threshold or to 0 (with or without a threshold), `cleared` when it is back above both.
   */
  alert: "raised" | "cleared" | null;
  reason: string | null;
  actor: ActorView;
  reservationId: string | null;
  txId: string | null;
  undoesSequence: number | null;
  /**
   * The undo that compensated this movement, as of the read (always null in the outbox payload:
   * the mirror learns of an undo from the undo row's `undoesSequence`).
   */
  undoneBySequence: number | null;
  /** ISO 8601, the object's clock. */
  createdAt: string;
}

export type ReservationState = "active" | "committed" | "released" | "expired";

export interface ReservationView {
  reservationId: string;
  key: string;
  locationId: string;
  quantity: number;
  state: ReservationState;
  expiresAt: string;
  createdAt: string;
  /** The commit, release or expire movement that settled it. */
  settledSequence: number | null;
}

export interface Shortage {
  locationId: string;
  onHand: number;
  reserved: number;
  available: number;
  /** Units the operation needed available. */
  requested: number;
}

export interface InsufficientStockRefusal {
  ok: false;
  code: "INSUFFICIENT_STOCK";
  message: string;
  /** The first shortage, flat, for single-location callers. */
  locationId: string;
  available: number;
  requested: number;
  /** Every location that could not be met (prepare reports them all). */
  shortages: Shortage[];
}

export interface NotFoundRefusal {
  ok: false;
  code: "NOT_FOUND";
  message: string;
}

export type ConflictReason =
  | "RESERVATION_EXPIRED"
  | "RESERVATION_RELEASED"
  | "RESERVATION_COMMITTED"
  | "ALREADY_UNDONE"
  | "NOT_UNDOABLE"
  | "PREPARE_ABORTED"
  | "PREPARE_EXPIRED"
  | "PREPARE_COMMITTED";

export interface ConflictRefusal {
  ok: false;
  code: "CONFLICT";
  reason: ConflictReason;
  message: string;
  /** For ALREADY_UNDONE: the undo movement. */
  undoneBySequence?: number;
}

/** The key was used before for a different request (other location, quantity or target). */
export interface KeyReusedRefusal {
  ok: false;
  code: "IDEMPOTENCY_KEY_REUSED";
  message: string;
}

export type Refusal =
  | InsufficientStockRefusal
  | NotFoundRefusal
  | ConflictRefusal
  | KeyReusedRefusal;

/** `replayed: true` when the key (or id) was seen before and nothing new happened. */
export type AdjustResult =
  | { ok: true; movement: Movement; replayed: boolean }
  | InsufficientStockRefusal
  | KeyReusedRefusal;

export type ReserveResult =
  | {
      ok: true;
      reservationId: string;
      locationId: string;
      quantity: number;
      state: ReservationState;
      expiresAt: string;
      replayed: boolean;
    }
  | InsufficientStockRefusal
  | KeyReusedRefusal;

export type CommitResult =
  | { ok: true; reservationId: string; state: "committed"; movement: Movement; replayed: boolean }
  | NotFoundRefusal
  | ConflictRefusal;

export type ReleaseResult =
  | {
      ok: true;
      reservationId: string;
      /** `expired` when the hold had already lapsed: the effect the caller wanted holds. */
      state: "released" | "expired";
      movement: Movement;
      replayed: boolean;
    }
  | NotFoundRefusal
  | ConflictRefusal;

export type UndoResult =
  | { ok: true; movement: Movement; replayed: boolean }
  | InsufficientStockRefusal
  | NotFoundRefusal
  | ConflictRefusal
  | KeyReusedRefusal;

export interface PreparedOp {
  locationId: string;
  mode: "delta" | "set";
  quantity: number;
  /** The change to on hand, fixed at prepare (a `set` becomes its delta at that moment). */
  delta: number;
  /** Units held at prepare so the commit cannot fail: −delta for a decrease, else 0. */
  held: number;
}

export type PrepareResult =
  | {
      ok: true;
      txId: string;
      state: "prepared" | "committed";
      expiresAt: string;
      ops: PreparedOp[];
      replayed: boolean;
    }
  | InsufficientStockRefusal
  | ConflictRefusal
  | KeyReusedRefusal;

export type CommitPreparedResult =
  | { ok: true; txId: string; state: "committed"; movements: Movement[]; replayed: boolean }
  | NotFoundRefusal
  | ConflictRefusal;

export type AbortPreparedResult =
  | { ok: true; txId: string; state: "aborted" | "expired"; replayed: boolean }
  | ConflictRefusal;

export type SetThresholdResult = {
  ok: true;
  locationId: string;
  threshold: number | null;
  low: boolean;
  /** The `threshold` movement; null when the threshold was already this value. */
  movement: Movement | null;
  replayed: boolean;
};

export interface LocationLevel {
  locationId: string;
  onHand: number;
  reserved: number;
  available: number;
  threshold: number | null;
  low: boolean;
}

export interface MirrorStatus {
  /** Consecutive failed flushes since the last success. */
  failures: number;
  /** When the alarm next tries, ISO; null when nothing waits on a backoff. */
  retryAt: string | null;
  lastError: string | null;
}

export interface StockSnapshot {
  productId: string | null;
  shopId: string | null;
  locations: LocationLevel[];
  /** The last movement's sequence (0 before the first). */
  sequence: number;
  /** Movements not yet acknowledged by Postgres. */
  pendingOutbox: number;
  mirror: MirrorStatus;
}

export interface FlushResult {
  /** Rows Postgres inserted in this flush (already-mirrored rows are not counted). */
  mirrored: number;
  /** Outbox rows still waiting after it. */
  pending: number;
  error: string | null;
}

/** Parses an RPC input; a failure throws `VALIDATION_FAILED: field: message; …`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
  throw new Error(`VALIDATION_FAILED: ${issues.join("; ")}`);
}

/** Maps a refusal to the domain error the HTTP layer turns into problem+json. */
export function refusalToError(refusal: Refusal): DomainError {
  switch (refusal.code) {
    case "INSUFFICIENT_STOCK":
      return new InsufficientStock(refusal.message, {
        locationId: refusal.locationId,
        available: refusal.available,
        requested: refusal.requested,
        shortages: refusal.shortages,
      });
    case "NOT_FOUND":
      return new NotFound("Stock record");
    case "CONFLICT":
      return new Conflict(refusal.message, { reason: refusal.reason });
    case "IDEMPOTENCY_KEY_REUSED":
      return new DomainError("IDEMPOTENCY_KEY_REUSED", refusal.message);
  }
}

/** Returns the success value or throws the refusal as a domain error. */
export function unwrap<R extends { ok: true } | Refusal>(result: R): Extract<R, { ok: true }> {
  if (result.ok) return result as Extract<R, { ok: true }>;
  throw refusalToError(result as Refusal);
}
