import { describe, expect, it } from "vitest";

declare global {
  interface ImportMeta {
    glob(
      pattern: string[],
      options: { query: "?raw"; import: "default"; eager: true },
    ): Record<string, string>;
  }
}

/** Every source file of the Worker and its objects, as text (vite inlines them at build). */
const sources = import.meta.glob(["/src/**/*.ts", "/durable-objects/**/*.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Resolves a relative specifier of `from` to a key of `sources`. */
function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const parts = from.split("/").slice(0, -1);
  for (const p of specifier.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

/** What `entry` imports, transitively, within the repository (type-only imports included). */
function closure(entry: string): Map<string, string> {
  const seen = new Map<string, string>([[entry, "(entry)"]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const text = sources[file] ?? "";
    // `from "…"`, a bare `import "…"` and a dynamic `import("…")`.
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) {
      const target = resolve(file, m[1] ?? "");
      if (target && !seen.has(target)) {
        seen.set(target, file);
        queue.push(target);
      }
    }
  }
  return seen;
}

describe("AuctionRoom layering", () => {
  it("imports no service, directly or through what it imports", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const reached = closure("/durable-objects/auction-room.ts");
    expect(reached.has("/durable-objects/auction-room/proxy-bidding.ts")).toBe(true);
    const services = [...reached].filter(([file]) => file.startsWith("/src/services/"));
    expect(services.map(([file, by]) => `${by} → ${file}`)).toEqual([]);
  });
});
