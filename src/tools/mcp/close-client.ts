/**
 * Tearing down an SDK client whose session already failed or is no longer wanted. The failure that led here is
 * what gets reported; an error from closing a half-dead transport is only logged (debug) so it is never lost.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Logger } from "../../observability/logger.js";

export async function closeMcpClient(client: Client, logger: Logger, fields: Record<string, unknown>): Promise<void> {
  try {
    await client.close();
  } catch (error) {
    logger.debug("mcp client close failed", { ...fields, error_name: (error as Error)?.name ?? "unknown" });
  }
}
