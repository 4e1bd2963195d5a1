/**
 * The emulator's state and the one way events are made. Every object belongs to a scope: the
 * platform (`account: null`) or one connected account (requests with `Stripe-Account`), and is
 * invisible from any other scope, as in Stripe.
 */
import { invalidParam, resourceMissing } from "./errors.ts";
import type { FormObject } from "./form.ts";
import { newId, unixNow } from "./ids.ts";
import type {
  AccountObject,
  ChargeObject,
  DisputeObject,
  EventObject,
  PaymentIntentObject,
  PaymentMethodObject,
  RefundObject,
  TransferObject,
} from "./objects.ts";
import type { WebhookDispatcher } from "./webhooks.ts";

/** The API version stripe-node 23 pins; events say it unless the request named another. */
export const DEFAULT_API_VERSION = "2026-10-28.endive";

interface Scoped<T> {
  seq: number;
  account: string | null;
  object: T;
}

let sequence = 0;

/** One kind of object, kept with its scope and insertion order (lists are newest first). */
export class Collection<T extends { id: string }> {
  readonly kind: string;
  /** The `param` Stripe names in its 404 for this kind (`intent` for a PaymentIntent). */
  readonly param: string;
  private readonly items = new Map<string, Scoped<T>>();

  constructor(kind: string, param: string) {
    this.kind = kind;
    this.param = param;
  }

  add(object: T, account: string | null): T {
    this.items.set(object.id, { seq: sequence++, account, object });
    return object;
  }

  get(id: string, account: string | null): T | undefined {
    const hit = this.items.get(id);
    return hit && hit.account === account ? hit.object : undefined;
  }

  /** The object, or Stripe's 404 `No such <kind>: '<id>'`. */
  require(id: string, account: string | null, param = this.param): T {
    const hit = this.get(id, account);
    if (!hit) throw resourceMissing(this.kind, id, param);
    return hit;
  }

  scopeOf(id: string): string | null | undefined {
    return this.items.get(id)?.account;
  }

  delete(id: string): void {
    this.items.delete(id);
  }

  list(account: string | null, keep: (o: T) => boolean = () => true): T[] {
    return [...this.items.values()]
      .filter((s) => s.account === account && keep(s.object))
      .sort((a, b) => b.seq - a.seq)
      .map((s) => s.object);
  }

  all(): T[] {
    return [...this.items.values()].map((s) => s.object);
  }

  clear(): void {
    this.items.clear();
  }
}

export interface AccountLinkRecord {
  token: string;
  account: string;
  type: "account_onboarding" | "account_update";
  refreshUrl: string | null;
  returnUrl: string | null;
  expiresAt: number;
  used: boolean;
}

export interface IdempotentResult {
  method: string;
  path: string;
  /** The parameters, canonicalised, to tell a replay from a reuse with other parameters. */
  fingerprint: string;
  status: number;
  body: string;
  storedAt: number;
  /** The request that produced the stored answer (Stripe's `Original-Request` header). */
  requestId: string;
}

export class State {
  readonly paymentIntents = new Collection<PaymentIntentObject>("payment_intent", "intent");
  readonly charges = new Collection<ChargeObject>("charge", "charge");
  readonly refunds = new Collection<RefundObject>("refund", "refund");
  readonly transfers = new Collection<TransferObject>("transfer", "transfer");
  readonly accounts = new Collection<AccountObject>("account", "account");
  readonly paymentMethods = new Collection<PaymentMethodObject>("PaymentMethod", "payment_method");
  readonly disputes = new Collection<DisputeObject>("dispute", "dispute");
  readonly events = new Collection<EventObject>("event", "id");
  readonly accountLinks = new Map<string, AccountLinkRecord>();
  readonly idempotency = new Map<string, IdempotentResult>();

  clear(): void {
    for (const c of [
      this.paymentIntents,
      this.charges,
      this.refunds,
      this.transfers,
      this.accounts,
      this.paymentMethods,
      this.disputes,
      this.events,
    ]) {
      c.clear();
    }
    this.accountLinks.clear();
    this.idempotency.clear();
  }
}

/** Who asked: the request behind an event (`event.request`), null for emulator helpers. */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
  apiVersion: string;
}

export const HELPER_REQUEST: RequestInfo = {
  id: null,
  idempotencyKey: null,
  apiVersion: DEFAULT_API_VERSION,
};

export interface EmitInput {
  type: string;
  object: unknown;
  /** Set for events about a connected account's objects (and its `account.updated`). */
  account: string | null;
  previousAttributes?: Record<string, unknown>;
  request: RequestInfo;
}

export class EmulatorCore {
  readonly state = new State();
  readonly dispatcher: WebhookDispatcher;
  baseUrl: string;
  readonly log: (m: string) => void;

  constructor(dispatcher: WebhookDispatcher, baseUrl: string, log: (m: string) => void) {
    this.dispatcher = dispatcher;
    this.baseUrl = baseUrl;
    this.log = log;
  }

  /** Records an event (a snapshot of the object as it is now) and queues its deliveries. */
  emit(input: EmitInput): EventObject {
    const event: EventObject = {
      id: newId("evt"),
      object: "event",
      ...(input.account ? { account: input.account } : {}),
      api_version: input.request.apiVersion,
      created: unixNow(),
      data: {
        object: structuredClone(input.object),
        ...(input.previousAttributes
          ? { previous_attributes: structuredClone(input.previousAttributes) }
          : {}),
      },
      livemode: false,
      pending_webhooks: 0,
      request: { id: input.request.id, idempotency_key: input.request.idempotencyKey },
      type: input.type,
    };
    this.state.events.add(event, input.account);
    this.dispatcher.enqueue(event);
    return event;
  }

  /** Finds any stored object by id within a scope, for `expand[]`. */
  lookup(id: string, account: string | null): unknown {
    const s = this.state;
    const prefix = id.slice(0, id.indexOf("_") + 1);
    switch (prefix) {
      case "pi_":
        return s.paymentIntents.get(id, account);
      case "ch_":
      case "py_":
        return s.charges.get(id, account);
      case "re_":
        return s.refunds.get(id, account);
      case "tr_":
        return s.transfers.get(id, account);
      case "acct_":
        return account === null ? s.accounts.get(id, null) : undefined;
      case "pm_":
        return s.paymentMethods.get(id, account);
      case "dp_":
        return s.disputes.get(id, account);
      case "evt_":
        return s.events.get(id, account);
      default:
        return undefined;
    }
  }

  /**
   * Applies `expand[]` paths (`latest_charge`, `data.payment_intent`, `charge.payment_intent`)
   * to a response body. A path that names no expandable id is refused, as Stripe does.
   */
  expand(body: unknown, paths: string[], account: string | null): unknown {
    if (paths.length === 0) return body;
    const copy = structuredClone(body);
    for (const path of paths) this.expandPath(copy, path.split("."), account);
    return copy;
  }

  private expandPath(node: unknown, parts: string[], account: string | null): void {
    if (!isRecord(node) || parts.length === 0) return;
    const [head = "", ...rest] = parts;
    if (head === "data" && Array.isArray(node.data) && node.object === "list") {
      for (const item of node.data) this.expandPath(item, rest, account);
      return;
    }
    if (!(head in node))
      throw invalidParam(`This property cannot be expanded (${head}).`, "expand");
    const value = node[head];
    if (typeof value === "string") {
      const found = this.lookup(value, account);
      if (found === undefined) {
        throw invalidParam(`This property cannot be expanded (${head}).`, "expand");
      }
      node[head] = structuredClone(found);
    } else if (value !== null && (!isRecord(value) || (rest.length === 0 && !("id" in value)))) {
      // Only ids expand; a plain hash such as metadata does not (an already expanded object
      // may appear again as the prefix of a longer path, or repeated).
      throw invalidParam(`This property cannot be expanded (${head}).`, "expand");
    }
    if (rest.length > 0) this.expandPath(node[head], rest, account);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What an API handler gets. `account` is the `Stripe-Account` header, if any. */
export interface ApiContext {
  core: EmulatorCore;
  params: FormObject;
  path: Record<string, string>;
  account: string | null;
  request: RequestInfo;
  method: string;
  url: string;
}

/** The fields of `after` whose values differ from `before`, with their old values. */
export function previousAttributes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = before[k] ?? null;
  }
  return out;
}
