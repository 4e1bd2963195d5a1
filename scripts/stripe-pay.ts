/**
 * `npm run stripe:pay -- <order id | checkout id | pi_…> [--card pm_card_visa]`: pays by hand, on
 * the local Stripe emulator, as the buyer would in the browser. The emulator then delivers
 * `payment_intent.succeeded` (or `payment_failed`) to the Worker's webhook route.
 *
 * A `pi_…` id is confirmed directly. Any other id is looked up in Postgres (DATABASE_URL from the
 * shell or .dev.vars, else the dev PGlite): an order's checkout, or a checkout, gives the
 * PaymentIntent.
 * Other test cards: pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds,
 * pm_card_authenticationRequired (then `--complete-action` or `--fail-action` on the pi_…).
 *
 * The emulator is found at STRIPE_EMULATOR_URL (default http://127.0.0.1:12111).
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { errorMessage } from "../src/lib/error-message.ts";
import { loadDevEnv, openDevDatabase } from "./stack/dev-database.ts";

const EMULATOR_URL = (process.env.STRIPE_EMULATOR_URL ?? "http://127.0.0.1:12111").replace(
  /\/$/,
  "",
);

const USAGE = `usage: npm run stripe:pay -- <order id | checkout id | pi_…> [--card pm_card_visa]
       npm run stripe:pay -- <pi_…> --complete-action | --fail-action`;

class UsageError extends Error {}

/**
 * The PaymentIntent behind an order or a checkout: `orders.checkout_id` → `checkouts`, whose
 * `payment_intent_id` the checkout wrote. Fails clearly when the tables are not there yet.
 */
async function findPaymentIntentId(id: string, connectionString: string): Promise<string> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_name IN ('orders', 'checkouts')`,
    );
    const names = new Set(tables.rows.map((r) => r.name));
    if (!names.has("orders") || !names.has("checkouts")) {
      throw new UsageError(
        "the orders/checkouts tables do not exist in this database (run `npm run db:migrate`, " +
          "or wait for checkout to land); pass the PaymentIntent id (pi_…) instead",
      );
    }
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new UsageError(`${id} is neither a PaymentIntent id (pi_…) nor an order/checkout id`);
    }
    const found = await client.query<{ pi: string | null; kind: string }>(
      `SELECT c.payment_intent_id AS pi, 'order' AS kind
         FROM orders o JOIN checkouts c ON c.id = o.checkout_id WHERE o.id = $1
       UNION ALL
       SELECT payment_intent_id AS pi, 'checkout' AS kind FROM checkouts WHERE id = $1`,
      [id],
    );
    const row = found.rows[0];
    if (!row) throw new UsageError(`no order or checkout ${id} in this database`);
    if (!row.pi) throw new UsageError(`${row.kind} ${id} has no PaymentIntent yet`);
    return row.pi;
  } finally {
    await client.end();
  }
}

interface EmulatorError {
  error?: { message?: string; code?: string; decline_code?: string };
}

async function callEmulator(pathName: string, body: Record<string, unknown>): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${EMULATOR_URL}${pathName}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new UsageError(
      `the Stripe emulator does not answer at ${EMULATOR_URL} (is \`npm run dev\` running? ` +
        "set STRIPE_EMULATOR_URL if it listens elsewhere)",
    );
  }
  const data = (await res.json()) as EmulatorError;
  if (!res.ok) {
    const e = data.error ?? {};
    const code = [e.code, e.decline_code].filter(Boolean).join("/");
    throw new UsageError(`${e.message ?? `HTTP ${res.status}`}${code ? ` (${code})` : ""}`);
  }
  return data;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      card: { type: "string", default: "pm_card_visa" },
      "complete-action": { type: "boolean" },
      "fail-action": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  const id = positionals[0];
  if (values.help || !id) {
    console.log(USAGE);
    if (!id && !values.help) process.exitCode = 1;
    return;
  }
  let pi = id;
  if (!id.startsWith("pi_")) {
    // DATABASE_URL, or the dev PGlite (through the running `npm run dev` when it holds it).
    const target = await openDevDatabase(loadDevEnv(), () => {});
    try {
      pi = await findPaymentIntentId(id, target.url);
    } finally {
      await target.close();
    }
    console.log(`[stripe:pay] ${id} → ${pi}`);
  }
  const action = values["complete-action"]
    ? "complete_action"
    : values["fail-action"]
      ? "fail_action"
      : "pay";
  const result = (await callEmulator(
    `/_emulator/payment_intents/${encodeURIComponent(pi)}/${action}`,
    action === "pay" ? { payment_method: values.card } : {},
  )) as { id: string; status: string; amount: number; currency: string };
  console.log(
    `[stripe:pay] ${result.id}: ${result.status} (${result.amount} ${result.currency})` +
      (result.status === "requires_action"
        ? ` — finish with: npm run stripe:pay -- ${result.id} --complete-action`
        : ""),
  );
}

main().catch((e: unknown) => {
  console.error(`[stripe:pay] ${errorMessage(e)}`);
  if (!(e instanceof UsageError)) console.error(USAGE);
  process.exit(1);
});
