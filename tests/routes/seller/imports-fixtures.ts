import { expect } from "vitest";
import { eventually } from "../../helpers/eventually.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";

export interface UploadBody {
  id: string;
  shopId: string;
  kind: "transactions" | "inventory";
  status: "queued" | "processing" | "succeeded" | "failed" | "partially_failed";
  fileHash: string;
  totalRows: number;
  succeededRows: number;
  failedRows: number;
  attempts: number;
  rowErrors: Array<{ row: number; field: string | null; message: string }>;
}

export type UploadResult = { upload: UploadBody; created: boolean } & Problem;

/** Sends a CSV file to `POST /v1/seller/imports/{kind}`. */
export function upload(
  token: string,
  kind: "transactions" | "inventory",
  shopId: string,
  csv: string,
): Promise<ApiResponse<UploadResult>> {
  return api<UploadResult>("POST", `/v1/seller/imports/${kind}?shopId=${shopId}`, {
    token,
    body: csv,
    headers: { "content-type": "text/csv" },
  });
}

/** Uploads and expects a new upload (202). */
export async function queued(
  token: string,
  kind: "transactions" | "inventory",
  shopId: string,
  csv: string,
): Promise<UploadBody> {
  const res = await upload(token, kind, shopId, csv);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.upload;
}

const FINISHED = new Set(["succeeded", "failed", "partially_failed"]);

/** The upload once the imports queue has finished its run (the consumer runs in workerd). */
export function finished(token: string, id: string): Promise<UploadBody> {
  return eventually(
    async () => {
      const res = await api<UploadBody>("GET", `/v1/seller/imports/${id}`, { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return FINISHED.has(res.body.status) ? res.body : undefined;
    },
    30_000,
    `upload ${id} to finish its run`,
  );
}

/** A CSV file from a header and rows of cells. */
export const csvOf = (header: string, ...rows: string[]) => `${[header, ...rows].join("\n")}\n`;
