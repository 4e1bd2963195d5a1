import { exports } from "cloudflare:workers";

export interface ApiOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** The client IP the edge would report; each test user gets its own so limits don't collide. */
  ip?: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the Worker's real HTTP surface (the `exports.default` service, successor of SELF). */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  opts: ApiOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  headers["cf-connecting-ip"] = opts.ip ?? randomIp();
  const res = await exports.default.fetch(`http://souk.test${path}`, {
    method,
    headers,
    body:
      opts.body === undefined
        ? undefined
        : typeof opts.body === "string"
          ? opts.body
          : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}@example.test`;
}

export interface Problem {
  code: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; in: string; message: string }>;
}
