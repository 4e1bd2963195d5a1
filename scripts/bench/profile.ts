/**
 * `npm run bench:profile`: where the Worker's CPU goes on `POST /v1/checkout/confirm`.
 *
 * Starts the local stack and the Worker as bench:stock does (wrangler's unstable_startWorker,
 * workerd, Durable Objects local) with the inspector open, buys a product a few times to warm
 * up, then takes a V8 CPU profile over the Chrome DevTools protocol while it drives `--n`
 * buy-now confirms (`--concurrency` at a time). No added RTT: this measures CPU, not waiting.
 *
 * The Worker is one esbuild bundle; esbuild heads every module in it with a `// path` comment,
 * so each sampled function is traced back to its module and grouped: hono, zod, drizzle, the
 * Neon driver, the Stripe SDK, jose, Upstash, our code (by file), JSON, logging, GC, and V8 /
 * workerd native time. It prints self time per group, per file and per function, and writes the
 * raw profile to `.bench/` (open it in Chrome DevTools → Performance, or VS Code).
 *
 *   npm run bench:profile
 *   npm run bench:profile -- --n 300 --concurrency 8 --interval 100 --top 40
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import WebSocket from "ws";
import * as schema from "../../src/db/schema/index.ts";
import { errorMessage } from "../../src/lib/error-message.ts";
import { ROOT } from "../stack/dev-database.ts";
import { workerVars } from "../stack/local-worker.ts";
import { startStack } from "../stack/stack.ts";
import { startStripeEmulator } from "../stripe-emulator/emulator.ts";
import { commandLine, descendantsNamed, treeCpuMs } from "./children.ts";
import {
  freePort,
  insertBuyers,
  seedShop,
  signTokens,
  startWorker,
  stockedProduct,
} from "./souk.ts";

const log = (msg: string) => console.error(`[profile] ${msg}`);

const HELP = `npm run bench:profile -- [options]
  --n 200            confirms driven while the profile runs
  --warmup 30        confirms before it (JIT, isolate, pools warm)
  --concurrency 4    confirms in flight at once
  --interval 200     V8 sampling interval, µs
  --top 30           rows in the per-function table`;

// ---------------------------------------------------------------------------------------------
// A minimal Chrome DevTools protocol client

interface CdpClient {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  on(method: string, listener: (params: unknown) => void): void;
  close(): void;
}

async function connectCdp(wsUrl: string): Promise<CdpClient> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Array<(params: unknown) => void>>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: unknown;
    };
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners.get(msg.method) ?? []) l(msg.params);
    }
  });
  ws.on("close", () => {
    for (const p of pending.values()) p.reject(new Error("inspector connection closed"));
    pending.clear();
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    on(method, listener) {
      listeners.set(method, [...(listeners.get(method) ?? []), listener]);
    },
    close: () => ws.close(),
  };
}

/** The Worker's debugger WebSocket from wrangler's inspector proxy (`/json` lists targets). */
async function debuggerUrl(inspector: URL): Promise<string> {
  const base = `http://${inspector.host}`;
  let last = "";
  for (let i = 0; i < 40; i++) {
    try {
      const res = await fetch(`${base}/json`);
      const targets = (await res.json()) as Array<{ webSocketDebuggerUrl?: string; id?: string }>;
      const target = targets.find((t) => t.webSocketDebuggerUrl);
      if (target?.webSocketDebuggerUrl) return target.webSocketDebuggerUrl;
      last = JSON.stringify(targets);
    } catch (err) {
      last = errorMessage(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no debugger target at ${base}/json (last: ${last})`);
}

// ---------------------------------------------------------------------------------------------
// The profile and its grouping

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Module start lines of one esbuild bundle, from its `// path` comments, in order. */
function moduleIndex(source: string): Array<{ line: number; module: string }> {
  const index: Array<{ line: number; module: string }> = [];
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/ ((?:[\w@.-]+\/)+[\w@.-]+\.(?:[cm]?[jt]sx?|json))$/.exec(lines[i] ?? "");
    if (m?.[1]) index.push({ line: i, module: m[1] });
  }
  return index;
}

/** 1-based line of `line` inside its module's part of the bundle. */
function lineWithin(index: Array<{ line: number; module: string }>, line: number): number {
  let start = 0;
  for (const entry of index) {
    if (entry.line > line) break;
    start = entry.line;
  }
  return line - start;
}

function moduleAt(index: Array<{ line: number; module: string }>, line: number): string | null {
  let lo = 0;
  let hi = index.length - 1;
  let found: string | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const entry = index[mid];
    if (!entry) break;
    if (entry.line <= line) {
      found = entry.module;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const GROUPS: Array<[RegExp, string]> = [
  [/node_modules\/(hono|@hono)\//, "hono"],
  [/node_modules\/zod\//, "zod"],
  [/node_modules\/drizzle-orm\//, "drizzle"],
  [/node_modules\/@neondatabase\//, "neon driver"],
  [/node_modules\/stripe\//, "stripe SDK"],
  [/node_modules\/jose\//, "jose (JWT)"],
  [/node_modules\/@upstash\//, "upstash (Redis, rate limit)"],
  [/node_modules\/@scalar\//, "scalar (API reference)"],
  [/(^|\/)src\/lib\/logger\.ts$/, "logging"],
  [/(^|\/)src\//, "our code: src/"],
  [/(^|\/)durable-objects\//, "our code: durable-objects/"],
  [/node_modules\/(wrangler|miniflare)\/|\.wrangler\//, "wrangler dev shims"],
  [/node_modules\/(unenv|@cloudflare)\//, "runtime shims (unenv)"],
];

/**
 * Frames of the runtime rather than of the bundle: V8 and workerd builtins (no URL:
 * WebSocket.send, setTimeout, crypto.subtle, RegExp exec…) and workerd's Node compatibility
 * layer (`node-internal:` Buffer, timers, process). Their time is charged to the bundle code
 * that called them, which is what one can cut.
 */
function isRuntime(frame: CallFrame): boolean {
  if (frame.functionName.startsWith("(")) return false;
  return (
    frame.url === "" || /^(node-internal|cloudflare-internal|workerd-internal):/.test(frame.url)
  );
}

/** `node_modules/x/y.js` without whatever leads to node_modules. */
function shortModule(module: string): string {
  const at = module.lastIndexOf("node_modules/");
  return at >= 0 ? module.slice(at) : module;
}

function groupOf(frame: CallFrame, module: string | null): string {
  const name = frame.functionName;
  if (name === "(garbage collector)") return "GC";
  if (name === "(idle)") return "(idle)";
  if (name === "(program)") return "V8/workerd native (program)";
  if (name === "(root)") return "(root)";
  if (!frame.url) {
    if (name === "parse" || name === "stringify") return "JSON";
    return "runtime builtins";
  }
  if (module) {
    for (const [re, group] of GROUPS) if (re.test(module)) return group;
    const pkg = /node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//.exec(module);
    if (pkg?.[1]) return `package: ${pkg[1]}`;
    return `other: ${module}`;
  }
  if (/^[\w-]+-internal:/.test(frame.url)) return "runtime builtins";
  // Bundle lines before the first module comment: esbuild's helpers (__name, __export…).
  return "esbuild helpers (bundle prelude)";
}

interface Row {
  key: string;
  ms: number;
}

function addTo(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

function sortRows(map: Map<string, number>): Row[] {
  return [...map].map(([key, ms]) => ({ key, ms })).sort((a, b) => b.ms - a.ms);
}

function markdown(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------

async function drive(
  url: string,
  tokens: string[],
  body: string,
  concurrency: number,
): Promise<{ ok: number; failed: string[]; ms: number }> {
  let next = 0;
  let ok = 0;
  const failed: string[] = [];
  const t0 = performance.now();
  const buyer = async () => {
    for (;;) {
      const token = tokens[next++];
      if (!token) return;
      const res = await fetch(`${url}/v1/checkout/confirm`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "idempotency-key": randomUUID(),
          "content-type": "application/json",
        },
        body,
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) ok += 1;
      else if (failed.length < 5) failed.push(`${res.status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, buyer));
  return { ok, failed, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      n: { type: "string", default: "200" },
      warmup: { type: "string", default: "30" },
      concurrency: { type: "string", default: "4" },
      interval: { type: "string", default: "200" },
      top: { type: "string", default: "30" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const n = Math.max(1, Number(values.n));
  const warmup = Math.max(0, Number(values.warmup));
  const concurrency = Math.max(1, Number(values.concurrency));
  const intervalUs = Math.max(50, Number(values.interval));
  const top = Math.max(5, Number(values.top));

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  };
  process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  try {
    const stack = await startStack({ mode: "test", log: (m) => log(`stack: ${m}`) });
    cleanups.push(() => stack.stop());
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    pool.on("error", () => {});
    cleanups.push(() => pool.end());
    const stripe = await startStripeEmulator({ port: 0 });
    cleanups.push(() => stripe.stop());

    const benchDir = path.join(ROOT, ".bench");
    mkdirSync(benchDir, { recursive: true });
    const stamp = new Date()
      .toISOString()
      .replace(/:\d\d\.\d+Z$/, "")
      .replace(":", "");
    const persistTo = mkdtempSync(path.join(tmpdir(), "souk-profile-"));
    cleanups.push(async () => rmSync(persistTo, { recursive: true, force: true }));
    const jwtSecret = randomBytes(32).toString("base64url");
    const vars = workerVars({ stack, stripe, jwtSecret });
    process.env.WRANGLER_LOG ??= "error";
    const workerdBefore = new Set(descendantsNamed(process.pid, "workerd"));
    const worker = await startWorker({
      vars,
      persistTo,
      logFile: path.join(benchDir, `profile-worker-${stamp}.log`),
      inspectorPort: await freePort(),
    });
    cleanups.push(() => worker.stop());
    if (!worker.inspectorUrl) throw new Error("the Worker has no inspector");
    const entry = `entry=127.0.0.1:${new URL(worker.url).port} `;
    const workerdPids = descendantsNamed(process.pid, "workerd").filter(
      (pid) => !workerdBefore.has(pid) && !`${commandLine(pid)} `.includes(entry),
    );

    const db = drizzle({ client: pool, schema });
    const shop = await seedShop(db);
    const [sellerToken = ""] = await signTokens([shop.sellerId], "seller", jwtSecret);
    const productId = await stockedProduct(
      worker.url,
      sellerToken,
      shop,
      (warmup + n) * 2,
      "Profiled product",
    );
    const buyers = await insertBuyers(db, warmup + n);
    const tokens = await signTokens(buyers, "buyer", jwtSecret);
    const body = JSON.stringify({
      items: [{ productId, quantity: 1 }],
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });

    log(`warming up: ${warmup} confirms`);
    const warm = await drive(worker.url, tokens.slice(0, warmup), body, concurrency);
    if (warmup > 0 && warm.ok === 0) throw new Error(`warm-up failed: ${warm.failed.join("; ")}`);

    const cdp = await connectCdp(await debuggerUrl(worker.inspectorUrl));
    cleanups.push(async () => cdp.close());
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    const cpuBefore = treeCpuMs(workerdPids);
    await cdp.send("Profiler.start");
    log(`profiling ${n} confirms, ${concurrency} at a time, sampling every ${intervalUs} µs`);
    const run = await drive(worker.url, tokens.slice(warmup), body, concurrency);
    const { profile } = await cdp.send<{ profile: CpuProfile }>("Profiler.stop");
    const cpuMs = treeCpuMs(workerdPids) - cpuBefore;
    for (const f of run.failed) log(`answer: ${f}`);

    // Sources of the sampled scripts: Debugger.enable replays scriptParsed for every script.
    const scripts = new Map<string, string>();
    cdp.on("Debugger.scriptParsed", (p) => {
      const { scriptId, url } = p as { scriptId: string; url: string };
      scripts.set(scriptId, url);
    });
    await cdp.send("Debugger.enable");
    const indexes = new Map<string, Array<{ line: number; module: string }>>();
    for (const scriptId of new Set(profile.nodes.map((nd) => nd.callFrame.scriptId))) {
      if (!scriptId || scriptId === "0") continue;
      try {
        const { scriptSource } = await cdp.send<{ scriptSource: string }>(
          "Debugger.getScriptSource",
          { scriptId },
        );
        indexes.set(scriptId, moduleIndex(scriptSource));
      } catch {
        // a script gone meanwhile: its functions group by URL
      }
    }
    await cdp.send("Debugger.disable");

    // Self time per node: each sample's time delta goes to the node it landed in.
    const selfMs = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] ?? 0;
      selfMs.set(id, (selfMs.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
    }
    const parent = new Map<number, ProfileNode>();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parent.set(child, node);
    }
    const where = (node: ProfileNode) => {
      const frame = node.callFrame;
      const index = indexes.get(frame.scriptId);
      const module = index ? moduleAt(index, frame.lineNumber) : null;
      const moduleLine = index && module ? lineWithin(index, frame.lineNumber) : null;
      return { frame, module, moduleLine, group: groupOf(frame, module) };
    };
    /** The group of the nearest caller that is bundle code (for runtime frames). */
    const callerGroup = (node: ProfileNode): string => {
      for (let up = parent.get(node.id); up; up = parent.get(up.id)) {
        if (!isRuntime(up.callFrame) && !up.callFrame.functionName.startsWith("(")) {
          return where(up).group;
        }
      }
      return "runtime builtins";
    };
    const byGroup = new Map<string, number>();
    const byGroupRuntime = new Map<string, number>();
    const byFile = new Map<string, number>();
    const byFunction = new Map<string, number>();
    const groupOfFunction = new Map<string, string>();
    let busyMs = 0;
    let idleMs = 0;
    for (const node of profile.nodes) {
      const ms = selfMs.get(node.id) ?? 0;
      if (ms === 0) continue;
      const { frame, module, moduleLine, group: own } = where(node);
      if (own === "(idle)" || own === "(root)") {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const runtime = isRuntime(frame) && own !== "JSON";
      const group = runtime ? callerGroup(node) : own;
      addTo(byGroup, group, ms);
      if (runtime) addTo(byGroupRuntime, group, ms);
      // Bundle code by module; runtime frames by their node-internal file or their group.
      const file = module
        ? shortModule(module)
        : /^[\w-]+-internal:/.test(frame.url)
          ? frame.url
          : own;
      addTo(byFile, file, ms);
      const name = frame.functionName || "(anonymous)";
      const fn = runtime
        ? `${name} [${frame.url || "builtin"}] ← ${group}`
        : `${name} ${module ? `${shortModule(module)}:${moduleLine}` : ""}`.trim();
      addTo(byFunction, fn, ms);
      groupOfFunction.set(fn, runtime ? "runtime, by caller" : group);
    }

    // Sample time is wall time on a busy machine: shares are what it measures well, so the
    // per-confirm column spreads workerd's measured CPU over them.
    const cpuPerConfirm = cpuMs / Math.max(1, run.ok);
    const share = (ms: number) => ms / Math.max(busyMs, 1e-9);
    const pct = (ms: number) => `${(100 * share(ms)).toFixed(1)}%`;
    const est = (ms: number) => (share(ms) * cpuPerConfirm).toFixed(2);
    const groupTable = markdown(
      ["group", "share", "≈ CPU ms per confirm", "of it in runtime calls"],
      sortRows(byGroup).map((r) => [
        r.key,
        pct(r.ms),
        est(r.ms),
        byGroupRuntime.has(r.key) ? pct(byGroupRuntime.get(r.key) ?? 0) : "",
      ]),
    );
    const fileTable = markdown(
      ["module (file)", "share", "≈ CPU ms per confirm"],
      sortRows(byFile)
        .slice(0, 25)
        .map((r) => [r.key, pct(r.ms), est(r.ms)]),
    );
    const fnTable = markdown(
      ["function (module:line in the bundle's copy)", "group", "share", "≈ CPU ms per confirm"],
      sortRows(byFunction)
        .slice(0, top)
        .map((r) => [r.key, groupOfFunction.get(r.key) ?? "", pct(r.ms), est(r.ms)]),
    );
    const profileFile = path.join(benchDir, `confirm-${stamp}.cpuprofile`);
    writeFileSync(profileFile, JSON.stringify(profile));
    const out = [
      `# bench:profile — POST /v1/checkout/confirm (buy now, one unit) — ${new Date().toISOString()}`,
      "",
      `- ${run.ok} of ${n} confirms answered 2xx in ${(run.ms / 1000).toFixed(1)} s, ${concurrency} at a time, after ${warm.ok} warm-up confirms; no added RTT`,
      `- workerd CPU over the profiled window (/proc, user + system, the Worker's process and its children, profiler overhead included): ${cpuMs.toFixed(0)} ms, ${cpuPerConfirm.toFixed(2)} ms per confirm`,
      `- V8 samples in the Worker's isolate (its Durable Objects run there too): ${busyMs.toFixed(0)} ms not idle, ${idleMs.toFixed(0)} ms idle, one sample every ${intervalUs} µs. Samples are wall time (on a shared machine a descheduled thread keeps its last sample), so the tables give each part's share and spread the measured CPU over the shares (≈ CPU ms)`,
      "- self time: in the function itself, not in what it calls. Runtime builtins (WebSocket send, setTimeout, RegExp exec, crypto.subtle, workerd's node:buffer and timers in `node-internal:`) are charged to the bundle code that called them (last column: how much of the group that is); JSON.parse/stringify stay apart as JSON. 'V8/workerd native (program)' is time outside any JavaScript frame (workerd's I/O and event loop)",
      `- raw profile: ${path.relative(ROOT, profileFile)} (Chrome DevTools → Performance → Load profile)`,
      "",
      "## By group",
      "",
      groupTable,
      "",
      "## By module",
      "",
      fileTable,
      "",
      `## Top ${top} functions by self time`,
      "",
      fnTable,
      "",
    ].join("\n");
    const file = path.join(benchDir, `profile-${stamp}.md`);
    writeFileSync(file, out);
    console.log(out);
    log(`written to ${path.relative(ROOT, file)}`);
  } finally {
    await cleanup();
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`[profile] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
