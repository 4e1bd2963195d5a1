import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../helpers/http.ts";
import { createAdmin, seedShop } from "../helpers/shops.ts";
import { registerUser } from "../helpers/users.ts";

/*
 * The access matrix, once for the whole API, from the served OpenAPI document: who may call
 * which operation. Route files test what their operations do for callers who may; they do not
 * repeat these rows.
 *   - An operation that declares `security` answers 401 to a caller without a token, and to one
 *     with a token that is not a session.
 *   - Every `/v1/admin/*` operation answers 403 to a signed-in buyer and to a shop owner.
 *   (A shop's operations answer 404 to anyone without a role in it, as if it did not exist:
 *   that needs a real shop, so it is tested with each resource.)
 * The request carries no body and placeholder ids: the refusal must come before any of that is
 * read, so a caller who may not call an operation learns nothing about its input.
 */

interface Operation {
  /** `[{}, …]` marks the token optional (a public read that shows more to its owner). */
  security?: Array<Record<string, unknown>>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);
/** A syntactically valid id that names nothing. */
const NOBODY = "00000000-0000-7000-8000-000000000000";

let operations: Array<{ method: string; path: string; url: string; secured: boolean }>;
let buyer: string;
let owner: string;

beforeAll(async () => {
  const doc = (await api<Document>("GET", "/openapi.json")).body;
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        url: path.replace(/\{[^}]+\}/g, NOBODY),
        secured:
          (op.security?.length ?? 0) > 0 && !op.security?.some((r) => Object.keys(r).length === 0),
      })),
  );
  const [b, shop] = await Promise.all([registerUser("buyer"), seedShop({ status: "approved" })]);
  buyer = b.accessToken;
  owner = shop.owner.accessToken;
}, 60_000);

/** The operations among `ops` whose answer to `call` is not `status`, as "METHOD path → got". */
async function exceptions(
  ops: typeof operations,
  status: number,
  call: (op: (typeof operations)[number]) => Promise<number>,
): Promise<string[]> {
  const wrong: string[] = [];
  // A few at a time: the matrix is wide and the machine is small.
  for (let i = 0; i < ops.length; i += 8) {
    const batch = ops.slice(i, i + 8);
    const got = await Promise.all(batch.map(call));
    got.forEach((s, j) => {
      const op = batch[j];
      if (op && s !== status) wrong.push(`${op.method} ${op.path} → ${s}`);
    });
  }
  return wrong;
}

describe("the access matrix", () => {
  it("covers the API: secured, admin and seller operations are all there", () => {
    expect(operations.filter((o) => o.secured).length).toBeGreaterThan(50);
    expect(operations.some((o) => o.path.startsWith("/v1/admin/"))).toBe(true);
    expect(operations.some((o) => o.path.startsWith("/v1/seller/"))).toBe(true);
  });

  it("answers 401 to every secured operation called without a token", async () => {
    const secured = operations.filter((o) => o.secured);
    expect(
      await exceptions(secured, 401, async (o) => (await api(o.method, o.url)).status),
    ).toEqual([]);
  });

  it("answers 401 to every secured operation called with a token that is not a session", async () => {
    const secured = operations.filter((o) => o.secured);
    const forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm90LWEtc2lnbmF0dXJl";
    expect(
      await exceptions(
        secured,
        401,
        async (o) => (await api(o.method, o.url, { token: forged })).status,
      ),
    ).toEqual([]);
  });

  it("answers 403 to a buyer and to a shop owner on every admin operation", async () => {
    const admin = operations.filter((o) => o.path.startsWith("/v1/admin/"));
    for (const token of [buyer, owner]) {
      expect(
        await exceptions(admin, 403, async (o) => (await api(o.method, o.url, { token })).status),
      ).toEqual([]);
    }
  });

  it("lets an admin through the admin gate (an admin's refusal, if any, is not 401 or 403)", async () => {
    const admin = await createAdmin();
    const ops = operations.filter((o) => o.path.startsWith("/v1/admin/") && o.method === "GET");
    const refused = [];
    for (const o of ops) {
      const s = (await api(o.method, o.url, { token: admin.accessToken })).status;
      if (s === 401 || s === 403) refused.push(`${o.method} ${o.path} → ${s}`);
    }
    expect(refused).toEqual([]);
  });
});
