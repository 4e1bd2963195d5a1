/**
 * The benchmark's helper processes: Node scripts started with an IPC channel, optionally pinned
 * to one CPU with `taskset`, answering typed messages.
 */
import { type ChildProcess, type Serializable, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

/** True when `taskset` exists here and this machine has a second core to give the load. */
export function canPin(): boolean {
  if (cpus().length < 2) return false;
  return spawnSync("taskset", ["-c", "0", "true"]).status === 0;
}

/** Pins this process (and what it starts afterwards) to one CPU. */
export function pinSelf(cpu: number): boolean {
  return spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)]).status === 0;
}

export interface Child {
  process: ChildProcess;
  /** The first message that satisfies `match`, or a rejection if the child exits first. */
  next<T>(match: (message: unknown) => message is T, timeoutMs?: number): Promise<T>;
  send(message: Serializable): void;
  stop(): Promise<void>;
}

/**
 * Starts `node <script> ...args` with IPC. With `cpu`, under `taskset -c cpu`. Its stdout and
 * stderr go to ours with a prefix.
 */
export function startChild(
  script: string,
  opts: { args?: string[]; cpu?: number | null; env?: NodeJS.ProcessEnv; name: string },
): Child {
  const node = [process.execPath, script, ...(opts.args ?? [])];
  const [cmd, ...args] =
    opts.cpu === null || opts.cpu === undefined
      ? node
      : ["taskset", "-c", String(opts.cpu), ...node];
  const child = spawn(cmd ?? process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: opts.env ?? process.env,
  });
  const prefix = (line: string) => `[${opts.name}] ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (text: string) => {
      for (const line of text.split("\n")) if (line.trim()) console.error(prefix(line));
    });
  }
  const inbox: unknown[] = [];
  const waiters = new Set<(m: unknown) => boolean>();
  child.on("message", (m) => {
    for (const w of waiters) if (w(m)) return;
    inbox.push(m);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  return {
    process: child,
    next<T>(match: (message: unknown) => message is T, timeoutMs = 600_000): Promise<T> {
      const queued = inbox.findIndex((m) => match(m));
      if (queued >= 0) return Promise.resolve(inbox.splice(queued, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(take);
          reject(new Error(`${opts.name}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const take = (m: unknown): boolean => {
          if (!match(m)) return false;
          clearTimeout(timer);
          waiters.delete(take);
          resolve(m);
          return true;
        };
        waiters.add(take);
        void exitedPromise.then(() => {
          if (!waiters.has(take)) return;
          clearTimeout(timer);
          waiters.delete(take);
          reject(new Error(`${opts.name} exited (code ${child.exitCode})`));
        });
      });
    },
    send(message: Serializable) {
      child.send(message);
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** A type guard for `{ type: name, ... }` messages. */
export function messageOf<T extends { type: string }>(type: T["type"]) {
  return (m: unknown): m is T =>
    typeof m === "object" && m !== null && (m as { type?: unknown }).type === type;
}

// ---------------------------------------------------------------------------------------------
// CPU time from /proc (Linux)

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
}

let ticksPerSecond: number | null = null;

/** The kernel's USER_HZ (`getconf CLK_TCK`), 100 nearly everywhere. */
function clockTicks(): number {
  if (ticksPerSecond === null) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const n = Number(out.stdout?.trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may hold spaces: the fields after it start at the last ')'.
    const open = text.indexOf("(");
    const close = text.lastIndexOf(")");
    const rest = text.slice(close + 2).split(" ");
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return {
      pid,
      comm: text.slice(open + 1, close),
      ppid: Number(rest[1]),
      ticks: Number(rest[11]) + Number(rest[12]),
    };
  } catch {
    return null; // gone meanwhile
  }
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.push(s);
  }
  return stats;
}

function subtree(root: number, stats: ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const out: ProcStat[] = [];
  const walk = (pid: number) => {
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      walk(child.pid);
    }
  };
  walk(root);
  return out;
}

/** Processes below `root` (children, grandchildren…) whose name is `comm`, e.g. "workerd". */
export function descendantsNamed(root: number, comm: string): number[] {
  return subtree(root, allStats())
    .filter((s) => s.comm === comm)
    .map((s) => s.pid);
}

/**
 * CPU time (user + system) the processes `pids` and everything below them have used so far, ms.
 * Take the difference over a step. Threads are included (a process's stat sums them); a child
 * that exited meanwhile is not.
 */
export function treeCpuMs(pids: number[]): number {
  const stats = allStats();
  const seen = new Set<number>();
  let ticks = 0;
  for (const pid of pids) {
    const own = stats.find((s) => s.pid === pid);
    for (const s of own ? [own, ...subtree(pid, stats)] : []) {
      if (seen.has(s.pid)) continue;
      seen.add(s.pid);
      ticks += s.ticks;
    }
  }
  return (ticks * 1000) / clockTicks();
}

/** A process's command line, arguments joined by spaces ("" once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
