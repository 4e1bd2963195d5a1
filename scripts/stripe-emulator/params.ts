import { invalidParam, missingParam } from "./errors.ts";
import type { FormObject, FormValue } from "./form.ts";

export type Metadata = Record<string, string>;

/** Stripe refuses parameters it does not know; so do we, naming the first one. */
export function allowParams(params: FormObject, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (key === "expand") continue;
    if (!allowed.includes(key)) {
      throw invalidParam(`Received unknown parameter: ${key}`, key, "parameter_unknown");
    }
  }
}

export function optString(params: FormObject, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw invalidParam(`Invalid string: ${name}`, name);
  return v;
}

export function reqString(params: FormObject, name: string): string {
  const v = optString(params, name);
  if (v === undefined || v === "") throw missingParam(name);
  return v;
}

/** An optional string where `""` means "unset" (Stripe's convention for emptyable fields). */
export function optNullableString(params: FormObject, name: string): string | null | undefined {
  const v = optString(params, name);
  if (v === "") return null;
  return v;
}

export function optInt(params: FormObject, name: string, min = 0): number | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) {
    throw invalidParam(`Invalid integer: ${v}`, name, "parameter_invalid_integer");
  }
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    throw invalidParam(`Invalid integer: ${v}`, name, "parameter_invalid_integer");
  }
  if (n < min) {
    const what = min > 0 ? "positive integer" : "non-negative integer";
    throw invalidParam(`Invalid ${what}`, name, "parameter_invalid_integer");
  }
  return n;
}

export function reqInt(params: FormObject, name: string, min = 0): number {
  const v = optInt(params, name, min);
  if (v === undefined) throw missingParam(name);
  return v;
}

export function optBool(params: FormObject, name: string): boolean | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParam(`Invalid boolean: ${v}`, name);
}

export function optEnum<T extends string>(
  params: FormObject,
  name: string,
  values: readonly T[],
): T | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  const hit = values.find((x) => x === v);
  if (hit === undefined) {
    throw invalidParam(`Invalid ${name}: must be one of ${values.join(", ")}`, name);
  }
  return hit;
}

export function optObject(params: FormObject, name: string): FormObject | undefined {
  const v = params[name];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "object" || Array.isArray(v)) {
    throw invalidParam(`Invalid object: ${name}`, name);
  }
  return v;
}

export function optStringArray(params: FormObject, name: string): string[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (v === "") return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw invalidParam(`Invalid array: ${name}`, name);
  }
  return v.filter((x): x is string => typeof x === "string");
}

/** The `expand[]` list of a request. */
export function expandList(params: FormObject): string[] {
  return optStringArray(params, "expand") ?? [];
}

/** A currency: three letters, lowercased as Stripe stores it. */
export function reqCurrency(params: FormObject, name = "currency"): string {
  const v = reqString(params, name).toLowerCase();
  if (!/^[a-z]{3}$/.test(v)) throw invalidParam(`Invalid currency: ${v}`, name);
  return v;
}

/**
 * Applies a `metadata` parameter to existing metadata as Stripe does: `metadata=` clears it,
 * `metadata[key]=` removes one key, other keys are set. Limits: 50 keys, key ≤ 40 chars, value
 * ≤ 500 chars.
 */
export function applyMetadata(params: FormObject, current: Metadata = {}): Metadata {
  const raw: FormValue | undefined = params.metadata;
  if (raw === undefined) return current;
  if (raw === "") return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw invalidParam("Invalid metadata: metadata must be a hash", "metadata");
  }
  const next: Metadata = { ...current };
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") {
      throw invalidParam(`Invalid metadata[${key}]: must be a string`, `metadata[${key}]`);
    }
    if (key.length > 40) {
      throw invalidParam(
        `Invalid metadata: metadata keys must be at most 40 characters (${key})`,
        `metadata[${key}]`,
      );
    }
    if (value.length > 500) {
      throw invalidParam(
        `Invalid metadata: metadata values must be at most 500 characters (${key})`,
        `metadata[${key}]`,
      );
    }
    if (value === "") delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > 50) {
    throw invalidParam("Invalid metadata: metadata cannot have more than 50 keys", "metadata");
  }
  return next;
}

/** `created[gte]=…` style range filters, or `created=…` for an exact second. */
export function createdFilter(params: FormObject): (created: number) => boolean {
  const v = params.created;
  if (v === undefined) return () => true;
  if (typeof v === "string") {
    const exact = optInt(params, "created");
    return (c) => c === exact;
  }
  if (Array.isArray(v)) throw invalidParam("Invalid created", "created");
  const bound = (op: string) => optInt(v, op);
  const gt = bound("gt");
  const gte = bound("gte");
  const lt = bound("lt");
  const lte = bound("lte");
  return (c) =>
    (gt === undefined || c > gt) &&
    (gte === undefined || c >= gte) &&
    (lt === undefined || c < lt) &&
    (lte === undefined || c <= lte);
}
