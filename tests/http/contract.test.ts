import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../helpers/http.ts";
import {
  arbitraryOf,
  type Components,
  type JsonSchema,
  sampleOf,
  validatorOf,
  violationsOf,
} from "../helpers/json-schema.ts";
import { createAdmin, seedShop } from "../helpers/shops.ts";
import { registerUser } from "../helpers/users.ts";

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  security?: unknown[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Components };
}

interface Identity {
  name: "anonymous" | "buyer" | "seller" | "admin";
  token?: string;
  /** Values a param of this name takes for this identity (the seller's own shop). */
  known: Record<string, string>;
}

interface Case {
  label: string;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
  /** Set when the document marks the request invalid: it may be refused, never accepted. */
  invalid?: boolean;
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

let doc: Document;
let identities: Identity[];

beforeAll(async () => {
  doc = (await api<Document>("GET", "/openapi.json")).body;
  const [buyer, shop, admin] = await Promise.all([
    registerUser("buyer"),
    seedShop({ status: "approved" }),
    createAdmin(),
  ]);
  identities = [
    { name: "anonymous", known: {} },
    { name: "buyer", token: buyer.accessToken, known: {} },
    { name: "seller", token: shop.owner.accessToken, known: { shopId: shop.id } },
    { name: "admin", token: admin.accessToken, known: {} },
  ];
}, 60_000);

const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

function valueFor(p: Parameter, who: Identity, seed: number): string {
  return who.known[p.name] ?? asText(sampleOf(arbitraryOf(p.schema, doc.components.schemas), seed));
}

const bodySchemaOf = (op: Operation) => op.requestBody?.content["application/json"]?.schema;

/** A request the document allows: required params only, or every param, and a drawn body. */
function validCase(op: Operation, who: Identity, seed: number, full: boolean): Case {
  const c: Case = {
    label: full ? `full (seed ${seed})` : "minimal",
    params: {},
    query: {},
    headers: {},
  };
  for (const p of op.parameters ?? []) {
    if (p.in === "path") c.params[p.name] = valueFor(p, who, seed);
    else if (p.required || full) {
      if (p.in === "query") c.query[p.name] = valueFor(p, who, seed);
      if (p.in === "header") c.headers[p.name] = valueFor(p, who, seed);
    }
  }
  const schema = bodySchemaOf(op);
  if (schema) c.body = sampleOf(arbitraryOf(schema, doc.components.schemas, !full), seed);
  return c;
}

/**
 * Requests the document marks invalid, each the minimal valid one with one thing broken (an
 * optional member is added only to be broken): nothing else in it, such as a drawn cursor, may
 * be the reason it is refused.
 */
function invalidCases(op: Operation, who: Identity, seed: number): Case[] {
  const base = validCase(op, who, seed, false);
  const components = doc.components.schemas;
  const cases: Case[] = [];
  const where = (p: Parameter) =>
    p.in === "path" ? base.params : p.in === "query" ? base.query : base.headers;
  for (const p of op.parameters ?? []) {
    if (p.in === "cookie") continue;
    const slot = p.in === "path" ? "params" : p.in === "query" ? "query" : "headers";
    if (p.required && p.in !== "path") {
      const { [p.name]: _, ...rest } = where(p);
      cases.push({ ...base, label: `${p.name} missing`, [slot]: rest, invalid: true });
    }
    for (const v of violationsOf(p.schema, components, where(p)[p.name], p.name, true)) {
      // An empty path segment names another route; that is not this operation's input.
      if (p.in === "path" && v.value === "") continue;
      const changed = { ...where(p), [p.name]: asText(v.value) };
      cases.push({ ...base, label: v.label, [slot]: changed, invalid: true });
    }
  }
  const schema = bodySchemaOf(op);
  if (schema) {
    for (const v of violationsOf(schema, components, base.body)) {
      cases.push({ ...base, label: `body ${v.label}`, body: v.value, invalid: true });
    }
    cases.push({ ...base, label: "body of the wrong type", body: [], invalid: true });
    cases.push({ ...base, label: "body not JSON", body: "{", invalid: true });
  }
  return cases;
}

async function send(method: string, path: string, who: Identity, c: Case) {
  const url =
    path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(c.params[name] ?? "")) +
    (Object.keys(c.query).length ? `?${new URLSearchParams(c.query)}` : "");
  const res = await api(method.toUpperCase(), url, {
    token: who.token,
    headers: c.headers,
    body: c.body,
  });
  return { url, res };
}

/**
 * What is wrong with an answer, judged by the operation's own `responses`; null when nothing.
 * A listed 4xx is a fine answer to any request, valid or not (a wrong password, a stale cursor,
 * an id that names nothing): the document lists it. What it cannot be: an unlisted status, a
 * body its schema refuses, a 5xx, or a 2xx to a request the document marks invalid.
 */
function judge(op: Operation, c: Case, res: Answer): string | null {
  const quoted = JSON.stringify(res.body).slice(0, 300);
  if (res.status >= 500) return `answered ${res.status}: ${quoted}`;
  const listed = op.responses[String(res.status)] ?? op.responses.default;
  if (!listed) {
    return `answered ${res.status}, not among ${Object.keys(op.responses).join(", ")}: ${quoted}`;
  }
  if (c.invalid && res.status < 300) return `accepted with ${res.status}: ${quoted}`;
  const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  const content = listed.content ?? {};
  if (Object.keys(content).length > 0 && !content[type]) {
    return `answered ${res.status} as ${type || "no content type"}, not ${Object.keys(content).join(", ")}`;
  }
  const schema = content[type]?.schema;
  if (schema) {
    const parsed = validatorOf(schema, doc.components.schemas).safeParse(res.body);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`);
      return `body of ${res.status} does not match its schema (${issues.join("; ")}): ${quoted}`;
    }
  }
  return null;
}

/** Runs `tasks` a few at a time: the Worker and Postgres share two cores with everything else. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i];
        if (task) out[i] = await task();
      }
    }),
  );
  return out;
}

interface Sent {
  key: string;
  who: Identity;
  finding: string | null;
  status: number;
}

async function run(method: string, path: string, op: Operation, who: Identity, c: Case) {
  const { url, res } = await send(method, path, who, c);
  const wrong = judge(op, c, res);
  const m = method.toUpperCase();
  const sent = c.body === undefined ? "" : ` ${asText(c.body).slice(0, 200)}`;
  return {
    key: `${m} ${path}`,
    who,
    status: res.status,
    finding: wrong && `${m} ${path} as ${who.name}, ${c.label} (${m} ${url}${sent}): ${wrong}`,
  };
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );

describe("the served OpenAPI document", () => {
  it("lists every status each operation answers, and what it refuses", async () => {
    // Valid requests from everyone: who gets past the operation's auth is learnt here.
    const valid: Array<() => Promise<Sent>> = [];
    let seed = 1;
    for (const { path, method, op } of operations()) {
      for (const who of identities) {
        const cases = [validCase(op, who, seed, false)];
        if (!op.security?.length || who.token) cases.push(validCase(op, who, seed + 1, true));
        seed += 3;
        for (const c of cases) valid.push(() => run(method, path, op, who, c));
      }
    }
    const first = await pool(valid, 6);
    // Invalid requests from one identity the operation lets in, so validation is reached.
    const admitted = new Map<string, Identity>();
    for (const s of first) {
      if (s.status !== 401 && s.status !== 403 && !admitted.has(s.key)) admitted.set(s.key, s.who);
    }
    const invalid: Array<() => Promise<Sent>> = [];
    for (const { path, method, op } of operations()) {
      const who = admitted.get(`${method.toUpperCase()} ${path}`);
      if (!who) continue;
      for (const c of invalidCases(op, who, seed++)) {
        invalid.push(() => run(method, path, op, who, c));
      }
    }
    const second = await pool(invalid, 6);
    // Nearly every operation must have been reached with broken input, or this proves nothing.
    expect(new Set(second.map((s) => s.key)).size).toBeGreaterThan(operations().length * 0.8);
    const findings = [...first, ...second].flatMap((s) => (s.finding ? [s.finding] : []));
    expect(findings).toEqual([]);
    // ~45 s for ~190 operations on a busy 2-core machine: it grows with the API.
  }, 150_000);

  it("declares the checks the server makes beyond a type: keys, bounds, not zero, not both", () => {
    const op = (method: string, path: string) => {
      const found = doc.paths[path]?.[method];
      if (!found) throw new Error(`${method} ${path} is not documented`);
      return found;
    };
    const param = (method: string, path: string, name: string) =>
      op(method, path).parameters?.find((p) => p.name === name);
    const body = (method: string, path: string) => {
      const ref = bodySchemaOf(op(method, path))?.$ref ?? "";
      return doc.components.schemas[ref.split("/").pop() ?? ""] ?? {};
    };
    const keyed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, o]) =>
        (o.parameters ?? [])
          .filter((p) => p.name === "idempotency-key")
          .map((p) => ({ at: `${method.toUpperCase()} ${path}`, p })),
      ),
    );
    // One rule for every Idempotency-Key, required where the middleware refuses to run without.
    expect(new Set(keyed.map(({ p }) => JSON.stringify(p.schema.pattern))).size).toBe(1);
    expect(keyed.filter(({ p }) => p.required).map(({ at }) => at)).toEqual(
      expect.arrayContaining([
        "POST /v1/auctions/{id}/buy-now",
        "POST /v1/auctions/{id}/second-chance/accept",
        "POST /v1/checkout/confirm",
      ]),
    );
    for (const name of ["minPrice", "maxPrice"]) {
      expect(param("get", "/v1/products", name)?.schema.type).toBe("integer");
    }
    expect(param("get", "/v1/auctions/{id}/bids", "beforeSequence")?.schema.maximum).toBeTypeOf(
      "number",
    );
    expect(body("post", "/v1/seller/stock-requests").properties?.delta?.not).toEqual({ const: 0 });
    expect(body("post", "/v1/seller/products/{id}/stock/adjustments").if).toBeDefined();
    expect(body("patch", "/v1/feedback/orders/{id}").minProperties).toBe(1);
    expect(body("post", "/v1/conversations").not).toEqual({ required: ["productId", "orderId"] });
    const me = bodySchemaOf(op("patch", "/v1/me"));
    const meBody = me?.$ref ? body("patch", "/v1/me") : me;
    expect(meBody?.dependentRequired).toEqual({ newPassword: ["currentPassword"] });
    const attributes = body("post", "/v1/seller/products").properties?.attributes;
    expect(attributes?.propertyNames).toMatchObject({ minLength: 1 });
    expect(attributes?.maxProperties).toBeTypeOf("number");
  });

  it("answers 405 with Allow, not 404, for a method a known path does not take", async () => {
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const declared = METHODS.filter((m) => m in ops);
      const other = METHODS.find((m) => !declared.includes(m));
      if (!other) continue;
      const url = path.replace(/\{\w+\}/g, "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b");
      const res = await api(other.toUpperCase(), url);
      const allow = (res.headers.get("allow") ?? "").split(/,\s*/).filter(Boolean);
      const type = res.headers.get("content-type") ?? "";
      const missing = declared.filter((m) => !allow.includes(m.toUpperCase()));
      if (
        res.status !== 405 ||
        missing.length > 0 ||
        !type.startsWith("application/problem+json")
      ) {
        wrong.push(`${other.toUpperCase()} ${path}: ${res.status}, Allow: ${allow.join(", ")}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("still answers 404 for a path no route knows", async () => {
    const res = await api("GET", "/v1/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
  });
});
