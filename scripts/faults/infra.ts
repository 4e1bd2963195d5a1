/**
 * Faults of the machinery under the API: Postgres, Redis and Stripe unreachable or slow (through
 * the rig's FaultProxy in front of each), and the Worker process (with its Durable Objects)
 * killed and started again.
 */
import { randomUUID } from "node:crypto";
import type { Scenario } from "./scenario.ts";
import {
  type Answer,
  type Buyer,
  buyers,
  checkoutOf,
  confirm,
  confirmUntilAnswered,
  pay,
  product,
  redeliverUnapplied,
  request,
  sleep,
  Tally,
  waitFor,
} from "./traffic.ts";

const ok = (a: Answer) => a.status === 200 || a.status === 201;

/** Tallies `a` and notes its checkout when it succeeded. */
function record(t: Tally, ledger: { note(id: string | null | undefined): void }, a: Answer) {
  t.add(a);
  if (ok(a)) ledger.note(checkoutOf(a)?.checkoutId);
}

export const postgresAtConfirm: Scenario = {
  id: 1,
  fault: "Postgres unreachable during confirms (before / after the reservation)",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const fresh = await product(rig, 10, "F1 before");
    const warm = await product(rig, 10, "F1 after");
    ledger.products.set(fresh, 10);
    ledger.products.set(warm, 10);
    const bs = await buyers(rig, 9);
    // One purchase leaves `warm`'s listing snapshot in Redis: later confirms plan from it without
    // Postgres, so they reach the reservation and fail at the write after it.
    const first = await confirm(rig, bs[8] as Buyer, warm);
    record(t, ledger, first);
    const keys = bs.slice(0, 8).map(() => randomUUID());
    rig.postgres("down");
    const down = await Promise.all(
      bs.slice(0, 8).map((b, i) => confirm(rig, b, i < 4 ? fresh : warm, keys[i], 30_000)),
    );
    rig.postgres("up");
    const downTally = new Tally();
    for (const a of down) {
      record(t, ledger, a);
      downTally.add(a);
    }
    if (down.some(ok)) failures.push("a confirm succeeded while Postgres was down");
    // The client retries under the same keys once Postgres is back.
    const again = await Promise.all(
      bs
        .slice(0, 8)
        .map((b, i) => confirmUntilAnswered(rig, b, i < 4 ? fresh : warm, keys[i] ?? "")),
    );
    for (const { answer } of again) record(t, ledger, answer);
    if (!again.every(({ answer }) => ok(answer))) {
      failures.push(
        `retries after Postgres came back: ${again.map((r) => r.answer.status).join(",")}`,
      );
    }
    return {
      traffic: `1 warm-up + 8 confirms with both bridges down (4 fresh listing, 4 cached), then retried under the same keys (down: ${downTally})`,
      answers: t,
      failures,
    };
  },
};

export const postgresDuringFlush: Scenario = {
  id: 2,
  fault: "Postgres down while the objects' outboxes flush",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const p = await product(rig, 10, "F2");
    let onHand = 10;
    // The seller route reads Postgres over the WebSocket bridge; the objects flush over HTTP.
    rig.proxies.pgHttp.set("down");
    let pendingSeen = 0;
    for (let i = 0; i < 6; i += 1) {
      const a = await request(`${rig.url}/v1/seller/products/${p}/stock/adjustments`, {
        method: "POST",
        token: rig.sellerToken,
        body: {
          locationId: rig.shop.branchId,
          mode: "delta",
          quantity: 1,
          reason: `fault 2 #${i}`,
        },
      });
      t.add(a);
      if (a.status === 201) onHand += 1;
    }
    const view = await request(`${rig.url}/v1/seller/products/${p}/stock`, {
      token: rig.sellerToken,
    });
    pendingSeen = Number(view.body?.pendingMirror ?? -1);
    await sleep(4_000);
    rig.proxies.pgHttp.set("up");
    ledger.products.set(p, onHand);
    const flushed = await waitFor(async () => {
      const v = await request(`${rig.url}/v1/seller/products/${p}/stock`, {
        token: rig.sellerToken,
      });
      return v.body?.pendingMirror === 0;
    }, 90_000);
    if (!flushed) failures.push("the outbox did not drain within 90 s of Postgres coming back");
    if (t.count("201") === 0) failures.push("no adjustment was accepted while Postgres was down");
    return {
      traffic: `6 seller stock adjustments with Postgres down for the flush (its HTTP bridge) (${pendingSeen} movements waiting in the outbox), 4 s, Postgres up`,
      answers: t,
      failures,
    };
  },
};

export const redisDown: Scenario = {
  id: 3,
  fault: "Redis down",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const proxy = rig.proxies.redis;
    if (!proxy) {
      return {
        traffic: "-",
        answers: t,
        failures,
        notInjected: "no Redis on this machine (the stack runs without it)",
      };
    }
    const p = await product(rig, 10, "F3");
    ledger.products.set(p, 10);
    const bs = await buyers(rig, 4);
    const email = `faults-${randomUUID().slice(0, 8)}@example.test`;
    const password = "correct horse battery staple 9";
    const reg = await request(`${rig.url}/v1/auth/register`, {
      method: "POST",
      body: { email, password, displayName: "Fault three" },
    });
    proxy.set("down");
    const login = await request(`${rig.url}/v1/auth/login`, {
      method: "POST",
      body: { email, password },
    });
    t.add(login, `login ${login.status || "none"}`);
    if (reg.status === 201 && ok(login))
      failures.push("login (rate-limited) answered 2xx with Redis down");
    if (reg.status !== 201) failures.push(`could not register the test user (${reg.status})`);
    const catalog = await Promise.all(
      Array.from({ length: 4 }, () => request(`${rig.url}/v1/products/${p}`, {})),
    );
    for (const a of catalog) t.add(a, `catalog ${a.status || "none"}`);
    if (!catalog.every((a) => a.status === 200))
      failures.push("the catalog did not bypass its cache");
    const buys = await Promise.all(bs.map((b) => confirm(rig, b, p, randomUUID(), 30_000)));
    for (const a of buys) {
      t.add(a, `confirm ${a.status || "none"}`);
      if (ok(a)) ledger.note(checkoutOf(a)?.checkoutId);
    }
    // Documented (README, blocked accounts): confirm checks the buyer in its own write.
    if (!buys.every((a) => a.status === 201))
      failures.push("confirms did not go through with Redis down");
    const adjust = await request(`${rig.url}/v1/seller/products/${p}/stock/adjustments`, {
      method: "POST",
      token: rig.sellerToken,
      body: { locationId: rig.shop.branchId, mode: "delta", quantity: 1, reason: "fault 3" },
    });
    t.add(adjust, `seller write ${adjust.status || "none"}`);
    if (adjust.status === 201) ledger.products.set(p, 11);
    if (adjust.status !== 503)
      failures.push(`a seller write with Redis down answered ${adjust.status}, not 503`);
    proxy.set("up");
    return {
      traffic: "1 login, 4 product reads, 4 confirms, 1 seller write, all with Redis down",
      answers: t,
      failures,
    };
  },
};

export const stripeDown: Scenario = {
  id: 4,
  fault: "Stripe unreachable at confirm",
  short: true,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const p = await product(rig, 10, "F4");
    ledger.products.set(p, 10);
    const bs = await buyers(rig, 5);
    const keys = bs.map(() => randomUUID());
    rig.proxies.stripe.set("down");
    const down = await Promise.all(bs.map((b, i) => confirm(rig, b, p, keys[i], 60_000)));
    rig.proxies.stripe.set("up");
    for (const a of down) record(t, ledger, a);
    if (down.some(ok)) failures.push("a confirm succeeded while Stripe was unreachable");
    const again = await Promise.all(
      bs.map((b, i) => confirmUntilAnswered(rig, b, p, keys[i] ?? "")),
    );
    for (const { answer } of again) record(t, ledger, answer);
    if (!again.every(({ answer }) => ok(answer)))
      failures.push("retries after Stripe came back failed");
    return {
      traffic: "5 confirms with Stripe refusing connections, then retried under the same keys",
      answers: t,
      failures,
    };
  },
};

export const stripeSlow: Scenario = {
  id: 5,
  fault: "Stripe slow (10 s) at confirm, client retrying under the same key",
  short: false,
  async run({ rig, ledger }) {
    const t = new Tally();
    const failures: string[] = [];
    const p = await product(rig, 10, "F5");
    ledger.products.set(p, 10);
    const bs = await buyers(rig, 3);
    const keys = bs.map(() => randomUUID());
    rig.proxies.stripe.delay(10_000);
    // The client gives up after 4 s and sends the same request again, three times.
    const tries: Promise<Answer>[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (const [i, b] of bs.entries()) tries.push(confirm(rig, b, p, keys[i], 4_000));
      await sleep(4_500);
    }
    for (const a of await Promise.all(tries)) record(t, ledger, a);
    rig.proxies.stripe.delay(0);
    const last = await Promise.all(
      bs.map((b, i) => confirmUntilAnswered(rig, b, p, keys[i] ?? "")),
    );
    const ids = new Set<string>();
    for (const { answer } of last) {
      record(t, ledger, answer);
      const c = checkoutOf(answer);
      if (c) ids.add(c.checkoutId);
    }
    if (ids.size !== bs.length) failures.push(`${ids.size} checkouts for ${bs.length} keys`);
    return {
      traffic:
        "3 buyers × 3 tries (4 s client timeout) with every Stripe answer held 10 s, then one more each",
      answers: t,
      failures,
    };
  },
};

export const workerKilled: Scenario = {
  id: 8,
  fault: "Worker process killed mid-burst of confirms, then restarted",
  short: true,
  async run({ rig, ledger, log }) {
    const t = new Tally();
    const failures: string[] = [];
    const units = 15;
    const p = await product(rig, units, "F8");
    ledger.products.set(p, units);
    const bs = await buyers(rig, 30);
    const keys = bs.map(() => randomUUID());
    const since = Math.floor(Date.now() / 1000) - 1;
    const burst = Promise.all(bs.map((b, i) => confirm(rig, b, p, keys[i], 30_000)));
    await sleep(400);
    log("killing the Worker (workerd SIGKILL) mid-burst");
    await rig.kill();
    const first = await burst;
    const cut = first.filter((a) => a.status === 0 || a.status >= 500).length;
    for (const a of first) record(t, ledger, a);
    log("starting the Worker again");
    await rig.start();
    const again = await Promise.all(
      bs.map((b, i) => confirmUntilAnswered(rig, b, p, keys[i] ?? "", { deadlineMs: 90_000 })),
    );
    for (const { answer } of again) record(t, ledger, answer);
    const lost = await redeliverUnapplied(rig, since);
    const won = again.filter(({ answer }) => ok(answer)).length;
    if (won !== units) failures.push(`${won} buyers hold a unit after the retries, ${units} units`);
    return {
      traffic: `30 confirms for ${units} units, Worker SIGKILLed 0.4 s in (${cut} cut off), restarted, all 30 retried under their keys`,
      answers: t,
      failures,
      note: lost
        ? `wrangler's local queue lost ${lost} in-flight webhook events with the process (Cloudflare Queues keep them): the harness had the emulator resend them`
        : undefined,
    };
  },
};

export const objectRestarted: Scenario = {
  id: 9,
  fault: "Durable Object restarted between reserve and commit",
  short: true,
  async run({ rig, ledger, log }) {
    const t = new Tally();
    const failures: string[] = [];
    const p = await product(rig, 5, "F9");
    ledger.products.set(p, 5);
    const bs = await buyers(rig, 3);
    const since = Math.floor(Date.now() / 1000) - 1;
    const made = await Promise.all(bs.map((b) => confirm(rig, b, p)));
    for (const a of made) record(t, ledger, a);
    log(
      "restarting the Worker with holds open (the objects lose their memory, keep their storage)",
    );
    await rig.kill();
    await rig.start();
    for (const a of made) {
      const c = checkoutOf(a);
      if (!c) continue;
      const status = await pay(rig, c.paymentIntentId);
      t.add(0, `pay ${status}`);
    }
    const lost = await redeliverUnapplied(rig, since);
    return {
      traffic:
        "3 confirms (holds), Worker and objects killed and restarted, then all 3 paid (commit)",
      answers: t,
      failures,
      note: lost
        ? `wrangler's local queue lost ${lost} in-flight webhook events with the process (Cloudflare Queues keep them): the harness had the emulator resend them`
        : undefined,
    };
  },
};
