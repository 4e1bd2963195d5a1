/**
 * Copies the API reference viewer (Scalar's standalone script) from node_modules into the Worker's
 * static assets, `public/docs/scalar.js`, so /docs works without internet and production does not
 * depend on a third-party CDN. The copy is not committed: it is 4.8 MB that npm already holds, and
 * a copy made from the installed package can never drift from package-lock.json.
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

/** Copies the viewer into public/ unless the copy there is already the installed one. */
export async function copyDocsAssets(): Promise<string> {
  // The package exports no subpath for its browser build, so it is found by its place on disk.
  const source = path.join(ROOT, "node_modules/@scalar/api-reference/dist/browser/standalone.js");
  const target = path.join(ROOT, "public", SCALAR_SCRIPT_PATH);
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => null)]);
  if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) return target;
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(source, target);
  return target;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await copyDocsAssets();
}
