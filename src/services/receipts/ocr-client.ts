import { z } from "zod";
import { ServiceUnavailable } from "../errors.ts";

/** What the OCR service answers (scripts/stack/ocr.ts, or the same service deployed). */
const ocrAnswer = z.object({
  text: z.string(),
  lines: z.array(z.object({ text: z.string(), confidence: z.number() })),
});
export type OcrAnswer = z.infer<typeof ocrAnswer>;

/** An image the service refused (not an image, too large): reading it again will not help. */
export class UnreadableImage extends Error {
  override name = "UnreadableImage";
}

/** The OCR engine behind OCR_PROVIDER_URL: one image in, its text and lines out. */
export interface OcrReader {
  read(image: ArrayBuffer, contentType: string): Promise<OcrAnswer>;
}

/** Long enough for a large photo on a busy machine; the queue retries a timeout. */
const OCR_TIMEOUT_MS = 60_000;

/**
 * The HTTP client of the OCR service at `baseUrl`. A 4xx answer is the image's fault
 * (UnreadableImage); anything else that is not a 200 with the expected shape (down, 5xx,
 * timeout) is ServiceUnavailable, worth retrying.
 */
export function httpOcrReader(baseUrl: string, fetcher: typeof fetch = fetch): OcrReader {
  const url = new URL("ocr", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  return {
    async read(image, contentType) {
      let res: Response;
      try {
        res = await fetcher(url, {
          method: "POST",
          headers: { "content-type": contentType },
          body: image,
          signal: AbortSignal.timeout(OCR_TIMEOUT_MS),
        });
      } catch (err) {
        throw new ServiceUnavailable(`the OCR service did not answer: ${String(err)}`);
      }
      const body = await res.text();
      if (res.status >= 400 && res.status < 500) {
        throw new UnreadableImage(`the OCR service refused the image (${res.status}): ${body}`);
      }
      const parsed = res.ok ? ocrAnswer.safeParse(safeJson(body)) : null;
      if (!parsed?.success) {
        throw new ServiceUnavailable(`the OCR service answered ${res.status} without a reading`);
      }
      return parsed.data;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
