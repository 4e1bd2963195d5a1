import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "../helpers/http.ts";

/** Every script, stylesheet and font URL the page names, from tags, CSS and inline script. */
function referencedUrls(html: string): string[] {
  const urls = [
    ...html.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']/gi),
    ...html.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi),
    ...html.matchAll(/@import\s+["']([^"']+)["']/gi),
  ].map((m) => m[1] ?? "");
  return urls.filter((u) => u !== "");
}

describe("GET /docs without internet", () => {
  it("names no external host for scripts, styles or fonts", async () => {
    const res = await api<string>("GET", "/docs");
    expect(res.status).toBe(200);
    const html = res.body;
    const urls = referencedUrls(html);
    expect(urls).toContain("/docs/scalar.js");
    for (const url of urls) expect(url, `${url} is not served by Souk`).toMatch(/^\/(?!\/)/);
    // No protocol-relative or absolute host anywhere in a tag's or the config's URLs.
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["'](?:https?:)?\/\//i);
    const config = /createApiReference\('#app',\s*(\{[\s\S]*?\})\s*\)\s*<\/script>/.exec(html)?.[1];
    expect(config, "the page initialises Scalar with an inline config").toBeDefined();
    expect(config).not.toMatch(/https?:\/\//);
    expect(JSON.parse(config ?? "{}")).toMatchObject({
      url: "/openapi.json",
      withDefaultFonts: false,
      telemetry: false,
    });
  });

  it("serves the viewer script from the Worker's own assets as JavaScript", async () => {
    // exports.default.fetch reaches the Worker only; static assets answer through their binding,
    // exactly what Cloudflare's edge (and wrangler dev) serve before the Worker is asked.
    const assets = (env as { ASSETS?: Fetcher }).ASSETS;
    expect(assets, "wrangler.toml binds the static assets as ASSETS").toBeDefined();
    const res = await assets?.fetch("http://souk.test/docs/scalar.js");
    expect(res?.status).toBe(200);
    expect(res?.headers.get("content-type")).toMatch(/javascript/);
    const script = (await res?.text()) ?? "";
    expect(script.length).toBeGreaterThan(1_000_000);
    expect(script).toContain("createApiReference");
  });
});
