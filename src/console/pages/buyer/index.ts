import { Hono } from "hono";
import type { AppEnv } from "../../../http/context.ts";

/** The buyer's pages (issue 14); each page module of this folder is mounted here. */
export const buyerPages = new Hono<AppEnv>();
