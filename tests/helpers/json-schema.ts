import fc from "fast-check";
import { z } from "zod";

/** A JSON Schema node of the served OpenAPI 3.1 document (its components are `#/components/…`). */
export type JsonSchema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  additionalProperties?: JsonSchema | boolean;
};

export type Components = Record<string, JsonSchema>;

const REF_PREFIX = "#/components/schemas/";

function resolve(schema: JsonSchema, components: Components): JsonSchema {
  let s = schema;
  while (s.$ref) {
    const target = components[s.$ref.slice(REF_PREFIX.length)];
    if (!target) throw new Error(`unresolved ${s.$ref}`);
    s = target;
  }
  return s;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** Text a careful client would send: letters, digits and a few separators, never blank. */
const word = (min: number, max: number) =>
  fc
    .string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzAB0123456789-_ "),
      minLength: min,
      maxLength: max,
    })
    .map((s) => (s.length > 0 ? `a${s.slice(1)}` : s));

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  const min = num(s.minLength) ?? 0;
  const max = Math.min(num(s.maxLength) ?? min + 24, min + 24);
  switch (s.format) {
    case "uuid":
      return fc.uuid({ version: 7 });
    case "email":
      return fc
        .tuple(fc.stringMatching(/^[a-z]{3,10}$/), fc.integer({ min: 0, max: 1e9 }))
        .map(([a, n]) => `${a}.${n}@example.test`);
    case "date-time":
      return fc
        .integer({ min: 2 * 86_400_000, max: 20 * 86_400_000 })
        .map((ms) => new Date(Date.now() + ms).toISOString());
    case "uri":
      return fc.constant("https://images.example.com/a.png");
  }
  const plain = word(Math.max(min, 1), Math.max(max, Math.max(min, 1)));
  if (typeof s.pattern === "string") {
    const re = new RegExp(s.pattern);
    const fits = (v: string) =>
      re.test(v) && v.length >= min && v.length <= (num(s.maxLength) ?? 1e9);
    try {
      return fc.stringMatching(re).filter(fits);
    } catch {
      // fast-check builds no lookaheads: plain words, kept where the pattern takes them.
      return plain.filter(fits);
    }
  }
  return plain;
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  let min = num(s.minimum) ?? (num(s.exclusiveMinimum) !== undefined ? undefined : 0);
  let max = num(s.maximum) ?? (num(s.exclusiveMaximum) !== undefined ? undefined : 10_000);
  if (min === undefined) min = (num(s.exclusiveMinimum) ?? 0) + (integer ? 1 : 0.001);
  if (max === undefined) max = (num(s.exclusiveMaximum) ?? 0) - (integer ? 1 : 0.001);
  // Small numbers, as a client would send them: a quantity of 2 billion finds nothing new.
  max = Math.min(max, Math.max(min, 0) + 10_000);
  return integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/**
 * Values the schema accepts, as fast-check draws them. `requiredOnly` keeps objects to their
 * required members: the minimal body a client could send.
 */
export function arbitraryOf(
  schema: JsonSchema,
  components: Components,
  requiredOnly = false,
): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const of = (x: JsonSchema) => arbitraryOf(x, components, requiredOnly);
  if (s.enum) return fc.constantFrom(...s.enum);
  if ("const" in s) return fc.constant(s.const);
  if (s.anyOf) return fc.oneof(...s.anyOf.map(of));
  if (s.oneOf) return fc.oneof(...s.oneOf.map(of));
  if (s.allOf?.[0]) return of(s.allOf[0]);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ["object"];
  const byType = types.map((t) => typedArbitrary(s, t, of, requiredOnly));
  const arb = byType.length === 1 && byType[0] ? byType[0] : fc.oneof(...byType);
  const not = s.not as JsonSchema | undefined;
  return not && "const" in not ? arb.filter((v) => v !== not.const) : arb;
}

function typedArbitrary(
  s: JsonSchema,
  t: string,
  of: (x: JsonSchema) => fc.Arbitrary<unknown>,
  requiredOnly: boolean,
): fc.Arbitrary<unknown> {
  switch (t) {
    case "null":
      return fc.constant(null);
    case "string":
      return stringArbitrary(s);
    case "integer":
      return numberArbitrary(s, true);
    case "number":
      return numberArbitrary(s, false);
    case "boolean":
      return fc.boolean();
    case "array": {
      const minLength = num(s.minItems) ?? 0;
      const maxLength = Math.min(num(s.maxItems) ?? minLength + 3, minLength + 3);
      return fc.array(of(s.items ?? {}), { minLength, maxLength });
    }
    default: {
      const props = s.properties ?? {};
      const extra = s.additionalProperties;
      if (Object.keys(props).length === 0 && extra && typeof extra === "object") {
        const minKeys = num(s.minProperties) ?? 0;
        const names = s.propertyNames as JsonSchema | undefined;
        const keys = names ? stringArbitrary({ type: "string", ...names }) : word(1, 12);
        return fc.dictionary(keys, of(extra), {
          minKeys,
          maxKeys: Math.min(num(s.maxProperties) ?? minKeys + 3, minKeys + 3),
        });
      }
      const required = s.required ?? [];
      const keys = Object.keys(props).filter((k) => !requiredOnly || required.includes(k));
      const rec = fc.record(Object.fromEntries(keys.map((k) => [k, of(props[k] ?? {})])), {
        requiredKeys: keys.filter((k) => required.includes(k)),
      });
      const minProps = num(s.minProperties) ?? 0;
      return minProps > 0
        ? fc
            .record(Object.fromEntries(Object.keys(props).map((k) => [k, of(props[k] ?? {})])), {
              requiredKeys: required,
            })
            .filter((v) => Object.keys(v).length >= minProps)
        : rec;
    }
  }
}

/** One value drawn with a fixed seed, so a failure names a request that can be sent again. */
export function sampleOf(arb: fc.Arbitrary<unknown>, seed: number): unknown {
  return fc.sample(arb, { numRuns: 1, seed })[0];
}

/** A zod validator for a document schema (its `$ref`s resolved against the components). */
export function validatorOf(schema: JsonSchema, components: Components): z.ZodType {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k === "$ref" && typeof v === "string" ? v.replace(REF_PREFIX, "#/$defs/") : rewrite(v),
        ]),
      );
    }
    return value;
  };
  return z.fromJSONSchema(
    rewrite({ ...schema, $defs: components }) as Parameters<typeof z.fromJSONSchema>[0],
  );
}

/** One value a schema refuses, breaking a single declared constraint. */
export interface Violation {
  label: string;
  value: unknown;
}

const OFF_FORMAT: Record<string, string> = {
  uuid: "not-a-uuid",
  email: "not-an-email",
  "date-time": "not-a-date",
  date: "not-a-date",
  uri: "not a uri",
};

/** The JSON types a schema admits; empty when it admits anything. */
function typesOf(s: JsonSchema, components: Components): Set<string> {
  const branches = s.anyOf ?? s.oneOf;
  if (branches) {
    const all = branches.map((b) => typesOf(resolve(b, components), components));
    return all.some((t) => t.size === 0) ? new Set() : new Set(all.flatMap((t) => [...t]));
  }
  if (s.enum) return new Set(s.enum.map((v) => (v === null ? "null" : typeof v)));
  if ("const" in s) return new Set([s.const === null ? "null" : typeof s.const]);
  if (s.type) return new Set(Array.isArray(s.type) ? s.type : [s.type]);
  return s.properties ? new Set(["object"]) : new Set();
}

/**
 * Values the document marks invalid, each derived from `base` (a valid value) by breaking one
 * declared constraint: a wrong type, a value off its enum, format or pattern, a length, bound or
 * item count past its limit, a required member missing, an empty or emptied object. `asText` is
 * for parameters, which travel as text: a wrong type there is only one that text can show.
 */
export function violationsOf(
  schema: JsonSchema,
  components: Components,
  base: unknown,
  where = "",
  asText = false,
): Violation[] {
  const s = resolve(schema, components);
  const out: Violation[] = [];
  const at = (label: string) => (where ? `${where}: ${label}` : label);
  const types = typesOf(s, components);
  const admits = (t: string) => types.has(t) || (t === "integer" && types.has("number"));
  if (types.size > 0 && !(asText && admits("string"))) {
    const wrong = (
      [
        ["string", "x"],
        ["integer", 12345],
        ["boolean", true],
      ] as const
    ).find(([t]) => !admits(t));
    if (wrong) out.push({ label: at(`a ${wrong[0]}`), value: wrong[1] });
  }
  // Constraints are read off the one branch that is not null (`X | null`).
  const branches = (s.anyOf ?? s.oneOf ?? [s])
    .map((b) => resolve(b, components))
    .filter((b) => !(b.type === "null" || ("const" in b && b.const === null)));
  const core = branches.length === 1 && branches[0] ? branches[0] : undefined;
  if (!core) return out;
  if (core.enum?.every((v) => typeof v === "string")) {
    out.push({ label: at("a value off the enum"), value: "not-one-of-them" });
  }
  const min = num(core.minLength);
  const max = num(core.maxLength);
  if (core.type === "string" && !core.enum) {
    if (max !== undefined)
      out.push({ label: at(`${max + 1} characters`), value: "a".repeat(max + 1) });
    if (min !== undefined && min > 0) out.push({ label: at("empty"), value: "" });
    const off = typeof core.format === "string" ? OFF_FORMAT[core.format] : undefined;
    if (off) out.push({ label: at(`not a ${core.format}`), value: off });
    if (typeof core.pattern === "string") {
      const re = new RegExp(core.pattern);
      const unmatched = ["has space", "ümlaut", "!", "a", "12345"].find(
        (v) => !re.test(v) && v.length >= (min ?? 0) && v.length <= (max ?? 1e9),
      );
      if (unmatched !== undefined) out.push({ label: at("off its pattern"), value: unmatched });
    }
  }
  if (core.type === "integer" || core.type === "number") {
    const lo = num(core.minimum);
    const hi = num(core.maximum);
    if (lo !== undefined) out.push({ label: at(`below ${lo}`), value: lo - 1 });
    if (hi !== undefined) out.push({ label: at(`above ${hi}`), value: hi + 1 });
    const xlo = num(core.exclusiveMinimum);
    const xhi = num(core.exclusiveMaximum);
    if (xlo !== undefined) out.push({ label: at(`not above ${xlo}`), value: xlo });
    if (xhi !== undefined) out.push({ label: at(`not below ${xhi}`), value: xhi });
    if (core.type === "integer") out.push({ label: at("a fraction"), value: (lo ?? 0) + 1.5 });
    const not = core.not as JsonSchema | undefined;
    if (not && "const" in not) out.push({ label: at(`${String(not.const)}`), value: not.const });
  }
  if (core.type === "array") {
    const items = Array.isArray(base) ? base : [];
    if ((num(core.minItems) ?? 0) > 0) out.push({ label: at("no items"), value: [] });
    const maxItems = num(core.maxItems);
    if (maxItems !== undefined && items.length > 0) {
      const many = Array.from({ length: maxItems + 1 }, (_, i) => items[i % items.length]);
      out.push({ label: at(`${maxItems + 1} items`), value: many });
    }
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if ((core.type === "object" || core.properties) && isObject(base)) {
    for (const key of core.required ?? []) {
      const { [key]: _, ...rest } = base;
      out.push({ label: at(`${key} missing`), value: rest });
    }
    if ((num(core.minProperties) ?? 0) > 0) out.push({ label: at("no members"), value: {} });
    const names = core.propertyNames as JsonSchema | undefined;
    const extra = core.additionalProperties;
    if (names && (num(names.minLength) ?? 0) > 0 && extra && typeof extra === "object") {
      const value = sampleOf(arbitraryOf(extra, components), 1);
      out.push({ label: at("an empty key"), value: { ...base, "": value } });
    }
    for (const [key, sub] of Object.entries(core.properties ?? {})) {
      // A member the base left out gets a valid value of its own to break.
      const valid = key in base ? base[key] : sampleOf(arbitraryOf(sub, components), 1);
      for (const v of violationsOf(sub, components, valid, where ? `${where}.${key}` : key)) {
        out.push({ label: v.label, value: { ...base, [key]: v.value } });
      }
    }
  }
  if (core.type === "array" && Array.isArray(base) && base.length > 0 && core.items) {
    for (const v of violationsOf(core.items, components, base[0], `${where}[0]`)) {
      out.push({ label: v.label, value: [v.value, ...base.slice(1)] });
    }
  }
  return out;
}
