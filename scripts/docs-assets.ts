/**
 * Copies the browser scripts the Worker serves from node_modules into its static assets: the API
 * reference viewer (Scalar's standalone script, `public/docs/scalar.js`) and the console's htmx,
 * Alpine (its CSP build: no eval) and uPlot (`public/console/vendor/`), so /docs and /console work
 * without internet and production depends on no third-party CDN. The copies are not committed
 * (.gitignore): npm already holds them, and a copy made from the installed package can never drift
 * from package-lock.json.
 *
 * Run by wrangler before `wrangler dev` and `wrangler deploy` (`[build]` in wrangler.toml) and by
 * vitest.config.ts before the test Worker starts. Usable as a module or as `node scripts/docs-assets.ts`.
 */
import { copyFile, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Where /docs loads the viewer from; wrangler.toml's `[assets] directory` is `public`. */
export const SCALAR_SCRIPT_PATH = "/docs/scalar.js";

/** Where the console's pages load their scripts and styles from (`src/console/layout.ts`). */
export const CONSOLE_VENDOR = {
  htmx: "/console/vendor/htmx.js",
  alpine: "/console/vendor/alpine.js",
  uplot: "/console/vendor/uplot.js",
  uplotCss: "/console/vendor/uplot.css",
} as const;

/** Each served path and the installed file it is copied from (the packages' browser builds). */
const COPIES: ReadonlyArray<readonly [target: string, source: string]> = [
  // The package exports no subpath for its browser build, so it is found by its place on disk.
  [SCALAR_SCRIPT_PATH, "@scalar/api-reference/dist/browser/standalone.js"],
  [CONSOLE_VENDOR.htmx, "htmx.org/dist/htmx.min.js"],
  [CONSOLE_VENDOR.alpine, "@alpinejs/csp/dist/cdn.min.js"],
  [CONSOLE_VENDOR.uplot, "uplot/dist/uPlot.iife.min.js"],
  [CONSOLE_VENDOR.uplotCss, "uplot/dist/uPlot.min.css"],
];

/** Copies one file into public/ unless the copy there is already the installed one. */
async function copyOne(servedPath: string, fromModule: string): Promise<string> {
  const source = path.join(ROOT, "node_modules", fromModule);
  const target = path.join(ROOT, "public", servedPath);
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => null)]);
  if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) return target;
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(source, target);
  return target;
}

/** Copies every served browser file into public/; answers the viewer's path there. */
export async function copyDocsAssets(): Promise<string> {
  const [scalar = ""] = await Promise.all(COPIES.map(([to, from]) => copyOne(to, from)));
  return scalar;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await copyDocsAssets();
}
