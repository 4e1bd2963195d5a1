import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../../src/lib/error-message.ts";
import { parseRedisUrl, type RespArg, RespError, RespPool, type RespValue } from "./redis.ts";

/*
 * An Upstash-REST-compatible front for a real Redis, so the Worker runs the real
 * `@upstash/redis` and `@upstash/ratelimit` clients locally. What the client sends and expects
 * (read from @upstash/redis's pkg/http.ts and commands/command.ts):
 * - `POST /` with `["SET","k","v"]`; `POST /pipeline` and `POST /multi-exec` with a list of those.
 *   Arguments are JSON strings, numbers or booleans (objects arrive already JSON-stringified).
 * - `{"result": ...}` per command; pipelines answer an array of `{result}` or `{error}`; a failed
 *   single command answers a non-2xx status with `{"error": "..."}`.
 * - With `Upstash-Encoding: base64` (the client's default) every string in a result, at any depth,
 *   is base64 and decoded by the client; numbers and null are left as they are.
 */

export interface RedisRestBridge {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// Commands that change the state of a pooled connection (or take it over) would leak into other
// requests. Upstash refuses them over REST as well.
const CONNECTION_STATE_COMMANDS = new Set([
  "AUTH",
  "DISCARD",
  "EXEC",
  "HELLO",
  "MONITOR",
  "MULTI",
  "PSUBSCRIBE",
  "PUNSUBSCRIBE",
  "QUIT",
  "RESET",
  "SELECT",
  "SSUBSCRIBE",
  "SUBSCRIBE",
  "SUNSUBSCRIBE",
  "UNSUBSCRIBE",
  "UNWATCH",
  "WATCH",
]);

class BadRequest extends Error {}

function sha1(bytes: Buffer): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/**
 * @upstash/ratelimit's scripts begin `#!lua flags=allow-key-locking`, a flag only Upstash knows;
 * open-source Redis 7 refuses the script ("Unexpected flag in script shebang"). We drop that flag
 * and remember the client's SHA-1 of the original so its EVALSHA still finds the script.
 */
function stripUpstashScriptFlags(script: Buffer): Buffer | null {
  if (script[0] !== 0x23 || script[1] !== 0x21) return null; // "#!"
  const newline = script.indexOf(0x0a);
  const firstLine = script.toString("utf8", 0, newline === -1 ? script.length : newline);
  const match = /^(#!lua\b.*?\bflags=)(\S*)(.*)$/.exec(firstLine);
  if (!match) return null;
  const flags = (match[2] ?? "").split(",").filter((f) => f !== "" && f !== "allow-key-locking");
  const rewritten = flags.length > 0 ? `${match[1]}${flags.join(",")}${match[3]}` : "#!lua";
  if (rewritten === firstLine) return null;
  const rest = newline === -1 ? Buffer.alloc(0) : script.subarray(newline);
  return Buffer.concat([Buffer.from(rewritten), rest]);
}

interface Prepared {
  args: RespArg[];
  /** Rewrites the reply, e.g. SCRIPT LOAD answers the SHA-1 the client computed. */
  after?: (reply: RespValue) => RespValue;
}

function toArg(value: unknown): Buffer {
  if (typeof value === "string") return Buffer.from(value);
  if (typeof value === "number" || typeof value === "boolean") return Buffer.from(String(value));
  return Buffer.from(JSON.stringify(value));
}

function parseCommand(value: unknown): Buffer[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest("ERR a command must be a non-empty JSON array");
  }
  return value.map(toArg);
}

function parseCommandList(value: unknown): Buffer[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest("ERR the body must be a non-empty JSON array of commands");
  }
  return value.map(parseCommand);
}

function jsonError(message: string): { error: string } {
  return { error: message };
}

function encode(value: RespValue, base64: boolean): Json {
  if (value === null || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => encode(item, base64));
  // An error nested in a reply (rare: a script returning one) has no slot of its own.
  const text = value instanceof RespError ? Buffer.from(value.message) : Buffer.from(value);
  return base64 ? text.toString("base64") : text.toString("utf8");
}

function asResult(value: RespValue, base64: boolean): { result: Json } | { error: string } {
  return value instanceof RespError ? jsonError(value.message) : { result: encode(value, base64) };
}

async function readBody(req: http.IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BadRequest("ERR request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequest("ERR the body is not valid JSON");
  }
}

function tokenMatches(given: string | null, expected: Buffer): boolean {
  if (given === null) return false;
  const bytes = Buffer.from(given);
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/**
 * Starts an HTTP server speaking the Upstash REST protocol and passing every command through to
 * the Redis at `redisUrl`. Bearer `token` is required on every request.
 */
export async function startRedisRestBridge(opts: {
  redisUrl: string;
  token: string;
  port?: number;
}): Promise<RedisRestBridge> {
  const pool = new RespPool(parseRedisUrl(opts.redisUrl));
  const expectedToken = Buffer.from(opts.token);
  const originalToLoaded = new Map<string, string>();

  function prepare(command: Buffer[]): Prepared {
    const [nameBytes, ...rest] = command;
    const name = (nameBytes ?? Buffer.alloc(0)).toString("utf8").toUpperCase();
    const sub = rest[0]?.toString("utf8").toUpperCase();
    if (CONNECTION_STATE_COMMANDS.has(name) || (name === "CLIENT" && sub === "REPLY")) {
      throw new BadRequest(`ERR ${name} is not supported over REST`);
    }
    if ((name === "EVAL" || name === "EVAL_RO") && rest[0]) {
      const rewritten = stripUpstashScriptFlags(rest[0]);
      if (!rewritten) return { args: command };
      originalToLoaded.set(sha1(rest[0]), sha1(rewritten));
      return { args: [name, rewritten, ...rest.slice(1)] };
    }
    if ((name === "EVALSHA" || name === "EVALSHA_RO") && rest[0]) {
      const loaded = originalToLoaded.get(rest[0].toString("utf8").toLowerCase());
      return { args: loaded ? [name, loaded, ...rest.slice(1)] : command };
    }
    if (name === "SCRIPT" && sub === "LOAD" && rest[1]) {
      const rewritten = stripUpstashScriptFlags(rest[1]);
      if (!rewritten) return { args: command };
      const original = sha1(rest[1]);
      originalToLoaded.set(original, sha1(rewritten));
      return {
        args: ["SCRIPT", "LOAD", rewritten],
        after: (reply) => (reply instanceof RespError ? reply : original),
      };
    }
    if (name === "SCRIPT" && sub === "EXISTS") {
      const shas = rest.slice(1).map((s) => {
        const loaded = originalToLoaded.get(s.toString("utf8").toLowerCase());
        return loaded ? Buffer.from(loaded) : s;
      });
      return { args: ["SCRIPT", "EXISTS", ...shas] };
    }
    return { args: command };
  }

  async function runOne(command: Buffer[]): Promise<RespValue> {
    const prepared = prepare(command);
    const [reply] = await pool.send([prepared.args]);
    const value = reply ?? null;
    return prepared.after ? prepared.after(value) : value;
  }

  async function runPipeline(commands: Buffer[][]): Promise<RespValue[]> {
    // A refused command fails alone, as Redis would answer an unknown one.
    const prepared = commands.map((command): Prepared | RespError => {
      try {
        return prepare(command);
      } catch (error) {
        return new RespError(errorMessage(error));
      }
    });
    const toSend = prepared.filter((p): p is Prepared => !(p instanceof RespError));
    const replies = toSend.length > 0 ? await pool.send(toSend.map((p) => p.args)) : [];
    let next = 0;
    return prepared.map((p) => {
      if (p instanceof RespError) return p;
      const reply = replies[next++] ?? null;
      return p.after ? p.after(reply) : reply;
    });
  }

  async function runMultiExec(commands: Buffer[][]): Promise<RespValue[] | RespError> {
    const prepared = commands.map(prepare);
    // MULTI, the commands and EXEC go out in one write on one connection, so nothing else can
    // land inside the transaction.
    const replies = await pool.send([["MULTI"], ...prepared.map((p) => p.args), ["EXEC"]]);
    const exec = replies[replies.length - 1] ?? null;
    if (exec instanceof RespError) {
      // EXECABORT: name the command that failed to queue, as it is the useful part.
      const queued = replies.slice(1, -1).find((r) => r instanceof RespError);
      return queued instanceof RespError
        ? new RespError(`${exec.message}: ${queued.message}`)
        : exec;
    }
    if (!Array.isArray(exec)) return new RespError("ERR transaction aborted");
    return exec.map((reply, i) => {
      const after = prepared[i]?.after;
      return after ? after(reply) : reply;
    });
  }

  function send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://bridge");
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : null;
    if (!tokenMatches(bearer ?? url.searchParams.get("_token"), expectedToken)) {
      send(res, 401, jsonError("Unauthorized"));
      return;
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const body = req.method === "POST" ? await readBody(req) : Buffer.alloc(0);
    const path = url.pathname.replace(/\/+$/, "");

    if (path === "/pipeline" || path === "/multi-exec") {
      if (req.method !== "POST") throw new BadRequest(`ERR ${path} requires POST`);
      const commands = parseCommandList(parseJson(body));
      const replies =
        path === "/pipeline" ? await runPipeline(commands) : await runMultiExec(commands);
      if (replies instanceof RespError) {
        send(res, 400, jsonError(replies.message));
        return;
      }
      send(
        res,
        200,
        replies.map((reply) => asResult(reply, base64)),
      );
      return;
    }

    let command: Buffer[];
    if (path === "") {
      if (req.method !== "POST")
        throw new BadRequest("ERR send the command as a POSTed JSON array");
      command = parseCommand(parseJson(body));
    } else {
      // `/set/key/value` style; a POST body, when present, is the last argument.
      command = path
        .slice(1)
        .split("/")
        .map((segment) => Buffer.from(decodeURIComponent(segment)));
      if (body.length > 0) command.push(body);
    }
    const reply = await runOne(command);
    if (reply instanceof RespError) {
      send(res, 400, jsonError(reply.message));
      return;
    }
    send(res, 200, { result: encode(reply, base64) });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof BadRequest) {
        send(res, 400, jsonError(error.message));
        return;
      }
      const message = errorMessage(error);
      send(res, 502, jsonError(`ERR Redis unavailable: ${message}`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    token: opts.token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        pool.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
