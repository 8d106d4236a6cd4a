import type { IncomingMessage, ServerResponse } from "node:http";

/** One endpoint the admin server serves for another room (the dashboard's routes and files): its body already parsed. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;
