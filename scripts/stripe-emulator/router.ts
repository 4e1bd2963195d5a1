/** A tiny method + path matcher: `/v1/transfers/:id/reversals` captures `id`. */
export interface Route<H> {
  method: string;
  segments: string[];
  handler: H;
}

export function route<H>(method: string, pattern: string, handler: H): Route<H> {
  return { method, segments: pattern.split("/").filter(Boolean), handler };
}

export interface Match<H> {
  handler: H;
  path: Record<string, string>;
}

export function matchRoute<H>(
  routes: Route<H>[],
  method: string,
  pathname: string,
): Match<H> | null {
  const parts = pathname.split("/").filter(Boolean);
  for (const r of routes) {
    if (r.method !== method || r.segments.length !== parts.length) continue;
    const path: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const want = r.segments[i] ?? "";
      const got = parts[i] ?? "";
      if (want.startsWith(":")) {
        try {
          path[want.slice(1)] = decodeURIComponent(got);
        } catch {
          ok = false;
          break;
        }
      } else if (want !== got) {
        ok = false;
        break;
      }
    }
    if (ok) return { handler: r.handler, path };
  }
  return null;
}
