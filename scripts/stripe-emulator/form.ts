/**
 * Stripe's v1 wire format: `application/x-www-form-urlencoded` with bracket notation
 * (`metadata[order_ids]=a,b`, `expand[0]=latest_charge`, `expand[]=x`, `a[b][c]=1`).
 * stripe-node writes arrays with indices (`expand[0]=…`); curl users write `expand[]=…`.
 */

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export class FormError extends Error {
  override name = "FormError";
  readonly param: string;
  constructor(message: string, param: string) {
    super(message);
    this.param = param;
  }
}

const KEY_PATTERN = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;
/** Marks `[]` while building: the next element of an array. */
const APPEND = Symbol("append");
type Segment = string | typeof APPEND;

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    throw new FormError(`Invalid URL encoding: ${s.slice(0, 40)}`, s.slice(0, 40));
  }
}

function splitKey(key: string): Segment[] {
  const match = KEY_PATTERN.exec(key);
  if (!match) return [key];
  const [, head = key, rest = ""] = match;
  const segments: Segment[] = [head];
  for (const part of rest.matchAll(/\[([^[\]]*)\]/g)) {
    const name = part[1] ?? "";
    segments.push(name === "" ? APPEND : name);
  }
  return segments;
}

type Building = string | Building[] | { [key: string]: Building };

function isContainer(v: Building | undefined): v is Building[] | { [key: string]: Building } {
  return typeof v === "object" && v !== null;
}

function insert(
  root: { [key: string]: Building },
  segments: Segment[],
  value: string,
  raw: string,
) {
  let node: Building[] | { [key: string]: Building } = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    const last = i === segments.length - 1;
    if (segment === APPEND) {
      if (!Array.isArray(node)) throw new FormError(`Invalid array: ${raw}`, raw);
      if (last) {
        node.push(value);
        return;
      }
      const fresh: { [key: string]: Building } = {};
      node.push(fresh);
      node = fresh;
      continue;
    }
    if (Array.isArray(node)) throw new FormError(`Invalid array: ${raw}`, raw);
    const record: { [key: string]: Building } = node;
    if (last) {
      if (isContainer(record[segment])) throw new FormError(`Invalid string: ${raw}`, raw);
      record[segment] = value;
      return;
    }
    const next = segments[i + 1];
    let child = record[segment];
    if (child === undefined) {
      child = next === APPEND ? [] : {};
      record[segment] = child;
    }
    if (!isContainer(child)) throw new FormError(`Invalid object: ${raw}`, raw);
    node = child;
  }
}

/**
 * Objects whose keys are all array indices become arrays (`expand[0]`, `expand[1]`), except a
 * `metadata` hash, whose keys are the caller's own and may well look like numbers.
 */
function finish(value: Building, parentKey: string | null): FormValue {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((v) => finish(v, null));
  const keys = Object.keys(value);
  const indexed =
    parentKey !== "metadata" && keys.length > 0 && keys.every((k) => /^(0|[1-9]\d{0,5})$/.test(k));
  if (indexed) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => finish(value[String(k)] ?? "", null));
  }
  const out: FormObject = {};
  for (const k of keys) out[k] = finish(value[k] ?? "", k);
  return out;
}

/** Parses a form-encoded body or query string into nested objects and arrays. */
export function parseForm(body: string): FormObject {
  const root: { [key: string]: Building } = {};
  for (const pair of body.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
    if (rawKey === "") continue;
    insert(root, splitKey(rawKey), value, rawKey);
  }
  const out: FormObject = {};
  for (const [k, v] of Object.entries(root)) out[k] = finish(v, k);
  return out;
}

/** The inverse, in stripe-node's style (indexed arrays, unencoded brackets); for scripts. */
export function encodeForm(data: Record<string, unknown>): string {
  const pairs: string[] = [];
  const enc = (s: string) => encodeURIComponent(s).replace(/%5B/g, "[").replace(/%5D/g, "]");
  const walk = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(`${key}[${i}]`, v);
      });
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(`${key}[${k}]`, v);
    } else {
      pairs.push(`${enc(key)}=${enc(value === null ? "" : String(value))}`);
    }
  };
  for (const [k, v] of Object.entries(data)) walk(k, v);
  return pairs.join("&");
}
