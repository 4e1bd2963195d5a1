/**
 * The local OCR service behind OCR_PROVIDER_URL: `POST /ocr` with a PNG or JPEG body answers
 * `{text, lines: [{text, confidence}]}`; `GET /health` answers `{ok, ready}`. One tesseract.js
 * worker, created on the first request and reused, reads one image at a time. Everything comes
 * from node_modules: the WASM core (tesseract.js-core) and the English LSTM traineddata
 * (@tesseract.js-data/eng), so nothing is downloaded at run time. Production points
 * OCR_PROVIDER_URL at this same server deployed anywhere (`node scripts/stack/ocr.ts --port N`).
 */
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "tesseract.js";
import { errorMessage } from "../../src/lib/error-message.ts";

const require = createRequire(import.meta.url);

/** The LSTM-only ("best_int") English model: what OEM.LSTM_ONLY, tesseract.js's default, reads. */
const LANG_PATH = path.join(
  path.dirname(require.resolve("@tesseract.js-data/eng/package.json")),
  "4.0.0_best_int",
);
/** A receipt photo is a few hundred kB; anything far bigger is not one. */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

export interface OcrLine {
  text: string;
  /** 0–100, tesseract's own confidence for the line. */
  confidence: number;
}

export interface OcrResult {
  text: string;
  lines: OcrLine[];
}

export interface OcrServer {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  // A plain field, not a parameter property: Node runs this file with types stripped only.
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** PNG and JPEG by their magic bytes: tesseract would otherwise fail deep inside its WASM. */
function isImage(bytes: Buffer): boolean {
  const png = bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  return png || jpeg;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_IMAGE_BYTES) throw new HttpError(413, `image larger than ${MAX_IMAGE_BYTES} B`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** A tesseract.js worker made once, on first use (loading the model takes a second or two). */
function lazyWorker(): { get(): Promise<Worker>; ready(): boolean; close(): Promise<void> } {
  let worker: Promise<Worker> | null = null;
  let ready = false;
  return {
    get() {
      worker ??= (async () => {
        const { createWorker, OEM } = await import("tesseract.js");
        const w = await createWorker("eng", OEM.LSTM_ONLY, {
          langPath: LANG_PATH,
          gzip: true,
          // Read the model from node_modules every start; never write a copy into the cwd.
          cacheMethod: "none",
          // Without a handler tesseract.js rethrows a job's failure (a corrupt image) on its
          // message port, which ends the process; the job's promise rejects either way.
          errorHandler: () => {},
        });
        ready = true;
        return w;
      })();
      // A failed start is retried by the next request rather than remembered.
      worker.catch(() => {
        worker = null;
      });
      return worker;
    },
    ready: () => ready,
    async close() {
      const w = await worker?.catch(() => null);
      await w?.terminate();
    },
  };
}

/** Lines as tesseract found them (its text split by line when the block layout is absent). */
function linesOf(data: {
  text: string;
  blocks?: Array<{
    paragraphs: Array<{ lines: Array<{ text: string; confidence: number }> }>;
  }> | null;
}): OcrLine[] {
  const fromBlocks = (data.blocks ?? []).flatMap((b) =>
    b.paragraphs.flatMap((p) =>
      p.lines.map((l) => ({ text: l.text.trim(), confidence: Math.round(l.confidence) })),
    ),
  );
  if (fromBlocks.length > 0) return fromBlocks.filter((l) => l.text.length > 0);
  return data.text
    .split("\n")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((text) => ({ text, confidence: 0 }));
}

/** Starts the OCR server on 127.0.0.1:`port` (0: any free port). */
export async function startOcrServer(
  opts: { port?: number; host?: string } = {},
): Promise<OcrServer> {
  const worker = lazyWorker();
  // One worker reads one image at a time; requests queue behind each other here.
  let queue: Promise<unknown> = Promise.resolve();
  const recognize = (image: Buffer): Promise<OcrResult> => {
    const run = queue.then(async () => {
      const w = await worker.get();
      try {
        const { data } = await w.recognize(image, {}, { text: true, blocks: true });
        return { text: data.text, lines: linesOf(data) };
      } catch (error) {
        // Its words for an image it cannot decode (libpng or libjpeg refused it).
        if (/read(ing)? image/i.test(errorMessage(error))) {
          throw new HttpError(422, "the image could not be decoded");
        }
        throw error;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const server = http.createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      try {
        if (req.method === "GET" && req.url === "/health") {
          answer(200, { ok: true, ready: worker.ready() });
          return;
        }
        if (req.method !== "POST" || req.url !== "/ocr") throw new HttpError(404, "not found");
        const image = await readBody(req);
        if (!isImage(image)) throw new HttpError(415, "the body must be a PNG or JPEG image");
        answer(200, await recognize(image));
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 500;
        if (!res.headersSent) answer(status, { error: errorMessage(error) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker.close();
    },
  };
}

// `node scripts/stack/ocr.ts [--port N] [--host H]`: the service on its own.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const server = await startOcrServer({
    port: Number(arg("--port") ?? 8790),
    host: arg("--host") ?? "127.0.0.1",
  });
  console.log(`[ocr] listening on ${server.url}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void server.close().then(() => process.exit(0)));
  }
}
