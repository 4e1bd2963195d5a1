import { z } from "@hono/zod-openapi";
import { complaintCategory, complaintOutcome } from "../../db/schema/community.ts";

export const ComplaintStatusSchema = z.enum(["open", "assigned", "resolved"]);

export const ComplaintSchema = z
  .object({
    id: z.uuid(),
    complainantId: z.uuid(),
    subject: z.object({ type: z.enum(["order", "shop", "user"]), id: z.uuid() }),
    category: z.enum(complaintCategory.enumValues),
    text: z.string(),
    status: ComplaintStatusSchema,
    assigneeId: z.uuid().nullable(),
    outcome: z.enum(complaintOutcome.enumValues).nullable(),
    resolutionNote: z.string().nullable(),
    resolvedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Complaint");

export const ComplaintPage = z
  .object({ items: z.array(ComplaintSchema), nextCursor: z.string().nullable() })
  .openapi("ComplaintPage");
