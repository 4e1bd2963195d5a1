import type { ServiceContext } from "../context.ts";
import type { NotificationQueue } from "../notifications/notify.ts";

/** Community services tell the other party: the service context plus the notifications queue. */
export type CommunityContext = ServiceContext & { queue: NotificationQueue };
