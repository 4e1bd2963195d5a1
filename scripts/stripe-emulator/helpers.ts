/**
 * Test helpers: what Stripe's dashboard, Stripe.js, the Stripe CLI (`stripe trigger`,
 * `stripe events resend`) or a cardholder would do, exposed as functions on the emulator handle
 * and as HTTP endpoints under `/_emulator/…` (no API key: the emulator listens on loopback).
 * Also a capture sink, `/_emulator/capture/{name}`, usable as a webhook endpoint in tests.
 */
import { completeOnboarding, createExpressAccount, disableAccount } from "./api/accounts.ts";
import { closeDispute, openDispute } from "./api/charges.ts";
import {
  cancelIntent,
  completeAction,
  confirmIntent,
  createIntent,
} from "./api/payment-intents.ts";
import { refundCharge } from "./api/refunds.ts";
import { makeTransfer } from "./api/transfers.ts";
import { type EmulatorCore, HELPER_REQUEST, isRecord, type RequestInfo } from "./core.ts";
import { ApiError, invalidRequest, resourceMissing } from "./errors.ts";
import { newId } from "./ids.ts";
import type { AccountObject, DisputeObject, EventObject, PaymentIntentObject } from "./objects.ts";
import type { DeliveryAttempt } from "./webhooks.ts";

export interface CapturedRequest {
  id: string;
  received_at: string;
  event_id: string | null;
  event_type: string | null;
  account: string | null;
  object_id: string | null;
  stripe_signature: string | null;
  content_type: string | null;
  /** The raw body, byte for byte as sent, for signature checks. */
  body: string;
  /** What the sink answered: 200, or the configured failure status. */
  status: number;
}

interface Sink {
  requests: CapturedRequest[];
  failFirstAttempts: number;
  failStatus: number;
  attemptsByEvent: Map<string, number>;
}

/** Named in-memory webhook receivers that record each POST and can fail the first tries. */
export class CaptureSinks {
  private readonly sinks = new Map<string, Sink>();

  private sink(name: string): Sink {
    let s = this.sinks.get(name);
    if (!s) {
      s = { requests: [], failFirstAttempts: 0, failStatus: 500, attemptsByEvent: new Map() };
      this.sinks.set(name, s);
    }
    return s;
  }

  /** Records a delivery; answers the failure status while an event has had fewer tries than set. */
  receive(name: string, headers: Record<string, string | undefined>, body: string): number {
    const sink = this.sink(name);
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = null;
    }
    const event = isRecord(parsed) ? parsed : {};
    const data = isRecord(event.data) ? event.data : {};
    const object = isRecord(data.object) ? data.object : {};
    const eventId = typeof event.id === "string" ? event.id : null;
    const key = eventId ?? "";
    const tries = (sink.attemptsByEvent.get(key) ?? 0) + 1;
    sink.attemptsByEvent.set(key, tries);
    const status = tries <= sink.failFirstAttempts ? sink.failStatus : 200;
    sink.requests.push({
      id: newId("cap", 14),
      received_at: new Date().toISOString(),
      event_id: eventId,
      event_type: typeof event.type === "string" ? event.type : null,
      account: typeof event.account === "string" ? event.account : null,
      object_id: typeof object.id === "string" ? object.id : null,
      stripe_signature: headers["stripe-signature"] ?? null,
      content_type: headers["content-type"] ?? null,
      body,
      status,
    });
    if (sink.requests.length > 5_000) sink.requests.splice(0, sink.requests.length - 5_000);
    return status;
  }

  list(
    name: string,
    filter: { eventId?: string; type?: string; objectId?: string } = {},
  ): CapturedRequest[] {
    return (this.sinks.get(name)?.requests ?? []).filter(
      (r) =>
        (!filter.eventId || r.event_id === filter.eventId) &&
        (!filter.type || r.event_type === filter.type) &&
        (!filter.objectId || r.object_id === filter.objectId),
    );
  }

  configure(name: string, opts: { failFirstAttempts?: number; failStatus?: number }): void {
    const sink = this.sink(name);
    if (opts.failFirstAttempts !== undefined) sink.failFirstAttempts = opts.failFirstAttempts;
    if (opts.failStatus !== undefined) sink.failStatus = opts.failStatus;
  }

  clear(name?: string): void {
    if (name === undefined) this.sinks.clear();
    else this.sinks.delete(name);
  }
}

export type TriggerableEvent =
  | "payment_intent.succeeded"
  | "payment_intent.payment_failed"
  | "payment_intent.requires_action"
  | "payment_intent.canceled"
  | "charge.refunded"
  | "charge.dispute.created"
  | "transfer.created"
  | "account.updated";

export const TRIGGERABLE: readonly TriggerableEvent[] = [
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.requires_action",
  "payment_intent.canceled",
  "charge.refunded",
  "charge.dispute.created",
  "transfer.created",
  "account.updated",
];

/** The operations behind both the handle's helper functions and the `/_emulator` routes. */
export class Helpers {
  private readonly core: EmulatorCore;
  readonly sinks = new CaptureSinks();

  constructor(core: EmulatorCore) {
    this.core = core;
  }

  /** The scope (platform or connected account) an object lives in, or a 404. */
  private scope(
    collection: { scopeOf(id: string): string | null | undefined; kind: string },
    id: string,
  ): string | null {
    const scope = collection.scopeOf(id);
    if (scope === undefined) throw resourceMissing(collection.kind, id);
    return scope;
  }

  /**
   * Confirms a PaymentIntent as the customer would with Stripe.js (which always sends a
   * `return_url`): succeeded, requires_action, or a thrown 402 card_error on a decline.
   */
  pay(piId: string, paymentMethod = "pm_card_visa", returnUrl?: string): PaymentIntentObject {
    const s = this.core.state.paymentIntents;
    const account = this.scope(s, piId);
    const pi = s.require(piId, account);
    const request: RequestInfo = { ...HELPER_REQUEST, id: newId("req", 14) };
    return confirmIntent(
      this.core,
      pi,
      { paymentMethod, returnUrl: returnUrl ?? `${this.core.baseUrl}/_emulator/return` },
      account,
      request,
    );
  }

  completeAction(piId: string): PaymentIntentObject {
    return completeAction(
      this.core,
      piId,
      this.scope(this.core.state.paymentIntents, piId),
      "succeed",
    );
  }

  failAction(piId: string): PaymentIntentObject {
    return completeAction(
      this.core,
      piId,
      this.scope(this.core.state.paymentIntents, piId),
      "fail",
    );
  }

  openDispute(chargeId: string, opts: { reason?: string; amount?: number } = {}): DisputeObject {
    return openDispute(this.core, chargeId, this.scope(this.core.state.charges, chargeId), opts);
  }

  closeDispute(disputeId: string, status: "won" | "lost"): DisputeObject {
    return closeDispute(
      this.core,
      disputeId,
      this.scope(this.core.state.disputes, disputeId),
      status,
    );
  }

  completeOnboarding(accountId: string): AccountObject {
    return completeOnboarding(this.core, accountId);
  }

  disableAccount(accountId: string, reason?: string): AccountObject {
    return disableAccount(this.core, accountId, reason);
  }

  /** Emits an arbitrary event (any type, any object), e.g. one the Worker does not handle. */
  emitEvent(input: {
    type: string;
    object: unknown;
    account?: string | null;
    previousAttributes?: Record<string, unknown>;
  }): EventObject {
    if (!/^[a-z_]+(\.[a-z_]+)+$/.test(input.type)) {
      throw invalidRequest(`Invalid event type: ${input.type}`, { param: "type" });
    }
    return this.core.emit({
      type: input.type,
      object: input.object ?? {},
      account: input.account ?? null,
      ...(input.previousAttributes ? { previousAttributes: input.previousAttributes } : {}),
      request: HELPER_REQUEST,
    });
  }

  /** Queues an event again (to one endpoint or all that match), like `stripe events resend`. */
  resendEvent(eventId: string, endpointId?: string): { event: EventObject; endpoints: string[] } {
    const events = this.core.state.events;
    const event = events.require(eventId, this.scope(events, eventId));
    if (endpointId && !this.core.dispatcher.endpoints.has(endpointId)) {
      throw resourceMissing("webhook_endpoint", endpointId, "endpoint_id");
    }
    const sent = this.core.dispatcher.enqueue(event, endpointId);
    return { event, endpoints: sent.map((e) => e.id) };
  }

  /**
   * Makes an event happen the way `stripe trigger` does: by running the real flow on fresh
   * objects. Returns every event the flow emitted (the asked-for one among them).
   */
  trigger(type: string): EventObject[] {
    const flow = TRIGGERABLE.find((t) => t === type);
    if (!flow) {
      throw invalidRequest(`Cannot trigger ${type}; supported: ${TRIGGERABLE.join(", ")}`, {
        param: "event",
      });
    }
    const before = new Set(this.core.state.events.all().map((e) => e.id));
    this.runFlow(flow);
    return this.core.state.events
      .all()
      .filter((e) => !before.has(e.id))
      .sort((a, b) => a.created - b.created);
  }

  private newIntent(): PaymentIntentObject {
    return createIntent(
      this.core,
      {
        amount: "2000",
        currency: "usd",
        automatic_payment_methods: { enabled: "true", allow_redirects: "never" },
        metadata: { triggered_by: "emulator" },
      },
      null,
      HELPER_REQUEST,
    );
  }

  private runFlow(flow: TriggerableEvent): void {
    const core = this.core;
    const swallow402 = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 402)) throw e;
      }
    };
    switch (flow) {
      case "payment_intent.succeeded":
        this.pay(this.newIntent().id);
        return;
      case "payment_intent.payment_failed":
        swallow402(() => this.pay(this.newIntent().id, "pm_card_chargeDeclined"));
        return;
      case "payment_intent.requires_action":
        this.pay(this.newIntent().id, "pm_card_authenticationRequired");
        return;
      case "payment_intent.canceled":
        cancelIntent(core, this.newIntent(), "requested_by_customer", null, HELPER_REQUEST);
        return;
      case "charge.refunded":
      case "charge.dispute.created": {
        const pi = this.pay(this.newIntent().id);
        const charge = core.state.charges.require(pi.latest_charge ?? "", null);
        if (flow === "charge.refunded") {
          refundCharge(
            core,
            charge,
            { metadata: {}, reverseTransfer: false },
            null,
            HELPER_REQUEST,
          );
        } else {
          this.openDispute(charge.id);
        }
        return;
      }
      case "account.updated":
      case "transfer.created": {
        const account = createExpressAccount(core);
        this.completeOnboarding(account.id);
        if (flow === "transfer.created") {
          makeTransfer(
            core,
            {
              amount: 1000,
              currency: "usd",
              destination: account.id,
              transferGroup: null,
              sourceTransaction: null,
              description: "(created by the emulator's trigger)",
              metadata: {},
            },
            null,
            HELPER_REQUEST,
          );
        }
        return;
      }
    }
  }

  deliveries(
    filter: { eventId?: string; endpointId?: string; type?: string } = {},
  ): DeliveryAttempt[] {
    return this.core.dispatcher.attempts.filter(
      (a) =>
        (!filter.eventId || a.event_id === filter.eventId) &&
        (!filter.endpointId || a.endpoint_id === filter.endpointId) &&
        (!filter.type || a.event_type === filter.type),
    );
  }

  /** Forgets every object, event, idempotency key, queued delivery and capture. Endpoints stay. */
  reset(): void {
    this.core.state.clear();
    this.core.dispatcher.clear();
    this.sinks.clear();
  }
}
