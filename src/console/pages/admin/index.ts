import { Hono } from "hono";
import type { AppEnv } from "../../../http/context.ts";

/** The admin's pages (issue 14); each page module of this folder is mounted here. */
export const adminPages = new Hono<AppEnv>();
