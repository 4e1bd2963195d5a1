/**
 * What the console tests share: the Worker's address, the database for fixtures (written as
 * `npm run seed` and the benchmarks write them), users with passwords for the sign-in form, and
 * one headless Debian Chromium per file with an axe-core check.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { type BenchShop, seedShop } from "../../scripts/bench/souk.ts";
import * as schema from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { hashPassword } from "../../src/services/auth/password.ts";
import { signAccessToken } from "../../src/services/auth/tokens.ts";

export const PASSWORD = "console test password 1";
/**
 * Where the tests write their screenshots: `.screenshots/` (ignored by git) on every run, and the
 * README's `docs/screenshots/` only with UPDATE_SCREENSHOTS=1, so `npm test` leaves the tree clean.
 */
export const SCREENSHOTS = path.resolve(
  import.meta.dirname,
  process.env.UPDATE_SCREENSHOTS === "1" ? "../../docs/screenshots" : "../../.screenshots",
);

export function consoleUrl(pathname = ""): string {
  return `${inject("consoleUrl")}${pathname}`;
}

export interface Db {
  db: NodePgDatabase<typeof schema>;
  close(): Promise<void>;
}

export function openDb(): Db {
  const pool = new pg.Pool({ connectionString: inject("consoleDatabaseUrl"), max: 2 });
  pool.on("error", () => {});
  return { db: drizzle({ client: pool, schema }), close: () => pool.end() };
}

export interface Account {
  id: string;
  email: string;
  role: "buyer" | "seller" | "admin";
}

/** A password for an existing account, hashed as the Worker hashes it (its pepper, its cost). */
async function setPassword(db: Db["db"], userId: string): Promise<void> {
  const passwordHash = await hashPassword(PASSWORD, inject("consolePepper"), 100_000);
  await db.insert(schema.credentials).values({ userId, passwordHash });
}

/** A fresh account of `role` that signs in with PASSWORD. */
export async function account(db: Db["db"], role: Account["role"]): Promise<Account> {
  const id = uuidv7();
  const email = `console-${role}-${id.slice(-12)}@test.invalid`;
  await db.insert(schema.users).values({ id, email, displayName: `Console ${role}`, role });
  await setPassword(db, id);
  return { id, email, role };
}

/** A visible shop with payouts on (the bench's fixture), its owner able to sign in. */
export async function sellerWithShop(db: Db["db"]): Promise<{ seller: Account; shop: BenchShop }> {
  const shop = await seedShop(db);
  await setPassword(db, shop.sellerId);
  const [user] = await db
    .select({ email: schema.users.email })
    .from(schema.users)
    .where(eq(schema.users.id, shop.sellerId));
  return { seller: { id: shop.sellerId, email: user?.email ?? "", role: "seller" }, shop };
}

/** The API's Bearer token for an account, signed as the Worker signs them. */
export function tokenOf(user: Account): Promise<string> {
  return signAccessToken({ sub: user.id, role: user.role }, inject("consoleJwtSecret"));
}

const AXE = readFileSync(
  path.resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"),
  "utf8",
);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** axe-core's serious and critical violations on the page as it stands (WCAG 2 A and AA). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply.
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (o: unknown) => Promise<{
            violations: Array<{
              id: string;
              impact: string | null;
              help: string;
              nodes: unknown[];
            }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Debian's Chromium, headless, with the flags that keep it off the (closed) network. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
}

/**
 * A fresh browser profile (its own cookies) at a desktop or phone size, with a client address of
 * its own (`CF-Connecting-IP`, which the local runtime keeps when given): every browser of every
 * file signs in from loopback, and the API's per-address sign-in limit (30 per 5 minutes) would
 * otherwise refuse the suite's later files, as it would one office of real people.
 */
export function newContext(
  browser: Browser,
  size: "desktop" | "phone" = "desktop",
): Promise<BrowserContext> {
  const b = crypto.getRandomValues(new Uint8Array(3));
  const extraHTTPHeaders = { "cf-connecting-ip": `10.${b[0]}.${b[1]}.${b[2]}` };
  return browser.newContext(
    size === "phone"
      ? { viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true, extraHTTPHeaders }
      : { viewport: { width: 1100, height: 720 }, extraHTTPHeaders },
  );
}

/** Signs in through the form; resolves once the page it lands on has loaded. */
export async function signInAs(page: Page, user: Account): Promise<void> {
  await page.goto(consoleUrl("/console/sign-in"));
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith("/sign-in")),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
}
