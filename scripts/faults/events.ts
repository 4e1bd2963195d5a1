/**
 * Faults of the asynchronous paths: webhooks duplicated, reordered, timestamped in the future;
 * the queue consumer crashing after it applied an event (the dev-only hook of
 * src/lib/dev-faults.ts, asked for by the event id); crons fired twice at once; a payment that
 * lands after its order expired.
 */
import { auction, auctionState, bid } from "./auction-traffic.ts";
import type { Rig } from "./rig.ts";
import type { Scenario } from "./scenario.ts";
import {
  type Answer,
  buyers,
  checkoutOf,
  confirm,
  deliver,
  eventsAbout,
  pauseWebhooks,
  pay,
  product,
  resumeWebhooks,
  type StripeEvent,
  sleep,
  Tally,
  waitFor,
  webhooksIdle,
  withId,
} from "./traffic.ts";

const ok = (a: Answer) => a.status === 200 || a.status === 201;

/** `n` one-unit checkouts of a fresh product, noted in the ledger; their PaymentIntent ids. */
async function checkouts(
  rig: Rig,
  ledger: { products: Map<string, number>; note(id: string | null | undefined): void },
  n: number,
  title: string,
  t: Tally,
): Promise<Array<{ checkoutId: string; paymentIntentId: string }>> {
  const p = await product(rig, n + 2, title);
  ledger.products.set(p, n + 2);
  const bs = await buyers(rig, n);
  const made = await Promise.all(bs.map((b) => confirm(rig, b, p)));
  const out: Array<{ checkoutId: string; paymentIntentId: string }> = [];
  for (const a of made) {
    t.add(a, `confirm ${a.status || "none"}`);
    const c = checkoutOf(a);
    if (ok(a) && c) {
      ledger.note(c.checkoutId);
      out.push(c);
    }
  }
  return out;
}

async function succeededEvent(rig: Rig, pi: string): Promise<StripeEvent | null> {
  let found: StripeEvent | null = null;
  await waitFor(async () => {
    found = (await eventsAbout(rig, pi)).find((e) => e.type === "payment_intent.succeeded") ?? null;
    return found !== null;
  }, 10_000);
  return found;
}

async function processed(rig: Rig, eventId: string, ms: number): Promise<boolean> {
  return waitFor(async () => {
    const { rows } = await rig.pool.query(
      "select 1 from stripe_events where id = $1 and processed_at is not null",
      [eventId],
    );
    return rows.length > 0;
  }, ms);
}

async function backdate(rig: Rig, checkoutIds: string[]): Promise<void> {
  await rig.pool.query(
    "update orders set payment_deadline = now() - interval '1 minute' where checkout_id = any($1)",
    [checkoutIds],
  );
  await rig.pool.query(
    "update checkouts set payment_deadline = now() - interval '1 minute' where id = any($1)",
    [checkoutIds],
  );
}

export const webhookStorm: Scenario = {
  id: 6,
  fault: "One webhook delivered five times at once; events out of order",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const [a, b] = await checkouts(rig, ledger, 2, "F6", t);
    if (!a || !b) return { traffic: "-", answers: t, failures: ["the checkouts were not made"] };
    await pauseWebhooks(rig);
    try {
      await pay(rig, a.paymentIntentId);
      await pay(rig, b.paymentIntentId);
      const ev = await succeededEvent(rig, a.paymentIntentId);
      if (!ev) throw new Error("the emulator made no payment_intent.succeeded");
      const five = await Promise.all(Array.from({ length: 5 }, () => deliver(rig, ev)));
      for (const s of five) t.add(s, `webhook ${s || "none"}`);
      // B's events newest first, each a moment after the one before.
      const bEvents = (await eventsAbout(rig, b.paymentIntentId)).reverse();
      for (const e of bEvents) {
        t.add(await deliver(rig, e), `webhook ${e.type.replace("payment_intent.", "pi.")}`);
        await sleep(300);
      }
      if (!(await processed(rig, ev.id, 30_000)))
        failures.push("the five-times event was never applied");
    } finally {
      await resumeWebhooks(rig);
    }
    return {
      traffic:
        "A's payment_intent.succeeded ×5 at once; B's events newest first; then the emulator's own deliveries",
      answers: t,
      failures,
    };
  },
};

export const consumerThrows: Scenario = {
  id: 7,
  fault: "Queue consumer throwing mid-event (after applying, before the ack)",
  short: true,
  async run({ rig, ledger, short }) {
    const t = new Tally();
    const failures: string[] = [];
    const made = await checkouts(rig, ledger, short ? 1 : 2, "F7", t);
    const [c, d] = made;
    if (!c) return { traffic: "-", answers: t, failures: ["the checkout was not made"] };
    let notInjected: string | undefined;
    await pauseWebhooks(rig);
    try {
      await pay(rig, c.paymentIntentId);
      const ev = await succeededEvent(rig, c.paymentIntentId);
      if (!ev) throw new Error("no payment_intent.succeeded from the emulator");
      const twice = withId(ev, `${ev.id}_faultthrow2`);
      t.add(await deliver(rig, twice), "webhook (crash ×2)");
      // Deliveries 1 and 2 throw after the apply; 3 finds it applied and acks (2 s + 4 s backoff).
      if (!(await processed(rig, twice.id, 60_000)))
        failures.push("the crashed event was never marked applied");
      await sleep(8_000);
      const { rows } = await rig.pool.query("select 1 from dead_letters where body->>'id' = $1", [
        twice.id,
      ]);
      if (rows.length > 0)
        failures.push("an event that succeeded on its third delivery was dead-lettered");
      if (d) {
        await pay(rig, d.paymentIntentId);
        const evD = await succeededEvent(rig, d.paymentIntentId);
        if (!evD) throw new Error("no payment_intent.succeeded for D");
        const always = withId(evD, `${evD.id}_faultthrowall`);
        t.add(await deliver(rig, always), "webhook (crash always)");
        // 5 retries at 2, 4, 8, 16, 32 s, then the dead-letter queue's consumer.
        const dead = await waitFor(async () => {
          const r = await rig.pool.query(
            "select count(*)::int as n from dead_letters where body->>'id' = $1",
            [always.id],
          );
          return (r.rows[0] as { n: number }).n === 1;
        }, 150_000);
        t.add(0, dead ? "dead-lettered" : "not dead-lettered");
        if (!dead) failures.push("an event failing every delivery never reached dead_letters");
        notInjected =
          "replaying the dead letter here: the injected crash keys on the event id, which a replay keeps, so it would crash again (the admin replay is proven by tests/routes/admin/operations.test.ts)";
      } else {
        notInjected =
          "--short: past-the-retries (dead letter) case runs in the full form only (~70 s)";
      }
    } finally {
      await resumeWebhooks(rig);
    }
    return {
      traffic: short
        ? "1 paid checkout; its succeeded event delivered as one that crashes the consumer twice"
        : "2 paid checkouts; one event crashes the consumer twice, one on every delivery (dead letter)",
      answers: t,
      failures,
      notInjected,
    };
  },
};

export const cronTwice: Scenario = {
  id: 10,
  fault: "Cron fired twice at once (payment deadlines, auction close)",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const made = await checkouts(rig, ledger, 3, "F10", t);
    await backdate(
      rig,
      made.map((m) => m.checkoutId),
    );
    const fired = await Promise.all([rig.scheduled("*/5 * * * *"), rig.scheduled("*/5 * * * *")]);
    for (const s of fired) t.add(s, `cron ${s || "none"}`);

    // The auction close: the ending sweep fired twice at once, right at the end instant, racing
    // the room's own alarm. One close, one result, one order for the highest bidder.
    const a = await auction(rig, 6_000, "F10 auction");
    const [b1, b2] = await buyers(rig, 2);
    if (b1 && b2) {
      for (const [b, max] of [
        [b1, 1500],
        [b2, 2600],
      ] as const) {
        const r = await bid(rig, b, a.id, max);
        t.add(r.status, `bid ${r.status}`);
      }
      await sleep(Math.max(0, a.endsAt - Date.now()));
      const closes = await Promise.all([rig.scheduled("* * * * *"), rig.scheduled("* * * * *")]);
      for (const s of closes) t.add(s, `close cron ${s || "none"}`);
      const closed = await waitFor(
        async () => (await auctionState(rig, a.id)).orders.length > 0,
        20_000,
      );
      await sleep(1_000);
      const st = await auctionState(rig, a.id);
      if (!closed || st.status !== "ended_sold") {
        failures.push(`auction close: status ${st.status}, ${st.orders.length} orders`);
      }
      if (st.orders.length !== 1 || st.orders[0]?.buyerId !== b2.id || st.winnerId !== b2.id) {
        failures.push(
          `auction close: ${st.orders.length} orders (want 1, for the highest bidder), winner ${st.winnerId === b2.id ? "right" : "wrong"}`,
        );
      }
      if (st.closedAudits !== 1) failures.push(`auction close audited ${st.closedAudits} times`);
    }
    const { rows } = await rig.pool.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from orders where checkout_id = any($1) group by status",
      [made.map((m) => m.checkoutId)],
    );
    const expired = rows.find((r) => r.status === "expired")?.n ?? 0;
    if (expired !== made.length) {
      failures.push(
        `${expired} of ${made.length} overdue orders expired (${rows.map((r) => `${r.n} ${r.status}`).join(", ")})`,
      );
    }
    return {
      traffic:
        "3 checkouts, deadlines moved into the past in Postgres, */5 cron fired twice concurrently; an auction with 2 bidders, its ending sweep (* * * * *) fired twice at the end instant, racing the room's alarm",
      answers: t,
      failures,
    };
  },
};

export const clocks: Scenario = {
  id: 11,
  fault: "Clocks: a webhook timestamped in the future; a bid at the end instant",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const [c] = await checkouts(rig, ledger, 1, "F11", t);
    if (!c) return { traffic: "-", answers: t, failures: ["the checkout was not made"] };
    await pauseWebhooks(rig);
    try {
      await pay(rig, c.paymentIntentId);
      const ev = await succeededEvent(rig, c.paymentIntentId);
      if (!ev) throw new Error("no payment_intent.succeeded");
      const future = withId(ev, `${ev.id}_future`);
      const s = await deliver(rig, future, Math.floor(Date.now() / 1000) + 3_600);
      t.add(s, `webhook t+1h ${s || "none"}`);
      if (s !== 400) failures.push(`a webhook signed an hour ahead answered ${s}, not 400`);
      await sleep(3_000);
      const { rows } = await rig.pool.query("select 1 from stripe_events where id = $1", [
        future.id,
      ]);
      if (rows.length > 0) failures.push("the future-dated event reached the consumer");
      // The same event signed now is applied (the payment is real).
      const now = await deliver(rig, ev);
      t.add(now, `webhook now ${now || "none"}`);
    } finally {
      await resumeWebhooks(rig);
    }

    // A bid at the end instant: bids every 25 ms from 200 ms before the end to 200 ms after.
    // Each is accepted (and then counts) or refused as AUCTION_CLOSED; none is accepted after
    // the end, and the winner is the highest accepted maximum.
    const a = await auction(rig, 8_000, "F11 auction");
    const bidders = await buyers(rig, 17);
    await sleep(Math.max(0, a.endsAt - 200 - Date.now()));
    const sent = await Promise.all(
      bidders.map(async (b, i) => {
        await sleep(i * 25);
        const max = 1000 + (i + 1) * 100;
        return { b, max, r: await bid(rig, b, a.id, max) };
      }),
    );
    for (const { r } of sent)
      t.add(r.status, `bid near the end ${r.status}${r.code ? ` ${r.code}` : ""}`);
    const accepted = sent.filter((x) => x.r.status === 201);
    for (const { r } of sent) {
      if (r.status !== 201 && r.code !== "AUCTION_CLOSED" && r.code !== "BID_TOO_LOW") {
        failures.push(`a bid near the end answered ${r.status} ${r.code}`);
      }
    }
    await waitFor(async () => (await auctionState(rig, a.id)).status.startsWith("ended"), 20_000);
    await sleep(1_500);
    const st = await auctionState(rig, a.id);
    const late = st.bids.filter((x) => x.acceptedAt.getTime() > a.endsAt);
    if (late.length > 0) failures.push(`${late.length} bids accepted after the end instant`);
    if (st.bids.length !== accepted.length) {
      failures.push(`${accepted.length} bids answered 201, ${st.bids.length} recorded`);
    }
    const top = accepted.reduce<(typeof accepted)[number] | null>(
      (m, x) => (m === null || x.max > m.max ? x : m),
      null,
    );
    if (top && (st.winnerId !== top.b.id || st.orders.length !== 1)) {
      failures.push(`the end-instant auction's winner is not its highest accepted bid`);
    }
    return {
      traffic:
        "a real payment's event signed 1 h ahead, then the same signed now; 17 bids 25 ms apart across an auction's end instant (no soft close)",
      answers: t,
      failures,
    };
  },
};

export const lateSuccess: Scenario = {
  id: 12,
  fault: "A payment that succeeds after its order expired",
  short: true,
  async run({ rig, ledger, log }) {
    const t = new Tally();
    const failures: string[] = [];
    const made = await checkouts(rig, ledger, 2, "F12", t);
    const ids = made.map((m) => m.checkoutId);
    await pauseWebhooks(rig);
    try {
      await backdate(rig, ids);
      // The race for real: the deadline sweep reads each intent through a Stripe that answers
      // 3 s late; the buyers pay (straight at the emulator) inside that window, so the sweep
      // decides on a stale "unpaid" and the payment's webhook lands after the expiry.
      rig.proxies.stripe.delay(3_000);
      const sweep = rig.scheduled("*/5 * * * *");
      await sleep(1_000);
      for (const m of made) {
        const paid = await pay(rig, m.paymentIntentId).catch(
          (e) => `refused (${String(e).slice(0, 60)})`,
        );
        t.add(0, `pay ${paid}`);
      }
      const s = await sweep;
      t.add(s, `cron ${s || "none"}`);
      rig.proxies.stripe.delay(0);
      const { rows } = await rig.pool.query<{ status: string }>(
        "select status from orders where checkout_id = any($1)",
        [ids],
      );
      log(`after the sweep, before the webhooks: ${rows.map((r) => r.status).join(", ")}`);
      t.add(0, `orders ${[...new Set(rows.map((r) => r.status))].join("/")} before webhook`);
    } finally {
      rig.proxies.stripe.delay(0);
      await resumeWebhooks(rig);
    }
    await webhooksIdle(rig).catch(() => false);
    // Both were paid at Stripe: once the queue has applied the webhooks, neither waits.
    await waitFor(async () => {
      const { rows } = await rig.pool.query(
        "select 1 from orders where checkout_id = any($1) and status = 'pending_payment'",
        [ids],
      );
      return rows.length === 0;
    }, 30_000);
    const { rows: final } = await rig.pool.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from orders where checkout_id = any($1) group by status",
      [ids],
    );
    for (const r of final) for (let i = 0; i < r.n; i += 1) t.add(0, `final ${r.status}`);
    return {
      traffic:
        "2 checkouts, deadlines moved into the past, */5 sweep with Stripe answering 3 s late, both paid during the sweep, webhooks after it",
      answers: t,
      failures,
      // The sweep expires an order only once Stripe has cancelled its intent, and Stripe never
      // lets a cancelled intent succeed: this race is the nearest thing that can happen.
      note: "an order expires only after Stripe cancelled its intent, which then cannot succeed; injected is the race of a payment landing during the sweep, its webhook after it",
    };
  },
};
