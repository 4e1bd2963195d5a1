import { createRouter } from "../../http/app.ts";

/** receipt photos read by OCR, reviewed, then confirmed or rejected (issue 13). */
export const sellerReceiptRoutes = createRouter();
