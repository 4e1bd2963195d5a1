import { createRouter } from "../../http/app.ts";

/** every shop's uploads, failed ones first (issue 13). */
export const adminUploadRoutes = createRouter();
