/**
 * The benchmark's helper processes: Node scripts started with an IPC channel, optionally pinned
 * to one CPU with `taskset`, answering typed messages.
 */
import { type ChildProcess, type Serializable, spawn, spawnSync } from "node:child_process";
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
