/**
 * GET / DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items.
 */
import type { Context } from "@opentelemetry/api";
import { invalidRequest, notFound } from "../core/errors.js";
import { optionalInteger } from "../core/request/field-readers.js";
import type { GatewayContext } from "../gateway-context.js";
import type { StoredResponseRecord } from "../store/response-store.js";
import { deleteStored, readStored } from "./store-access.js";

async function load(gw: GatewayContext, id: string, trace: Context): Promise<StoredResponseRecord> {
  const record = await readStored(gw, id, trace);
  if (!record) throw notFound(`No response found with id '${id}'.`, "response_id", "response_not_found");
  return record;
}

export async function getResponse(gw: GatewayContext, id: string, trace: Context): Promise<Response> {
  const record = await load(gw, id, trace);
  return Response.json(record.response);
}

export async function deleteResponse(gw: GatewayContext, id: string, trace: Context): Promise<Response> {
  const deleted = await deleteStored(gw, id, trace);
  if (!deleted) throw notFound(`No response found with id '${id}'.`, "response_id", "response_not_found");
  return Response.json({ id, object: "response.deleted", deleted: true });
}

export async function listInputItems(gw: GatewayContext, id: string, query: URLSearchParams, trace: Context): Promise<Response> {
  const limit = optionalInteger(query.get("limit") === null ? undefined : Number(query.get("limit")), "limit", 1, 100) ?? 20;
  const orderRaw = query.get("order") ?? "desc";
  if (orderRaw !== "asc" && orderRaw !== "desc") throw invalidRequest(`Invalid 'order': expected 'asc' or 'desc', got '${orderRaw}'.`, "order", "invalid_value");
  const after = query.get("after");
  const record = await load(gw, id, trace);
  let items = record.input_items as Array<{ id: string }>;
  if (orderRaw === "desc") items = [...items].reverse();
  if (after) {
    const at = items.findIndex((i) => i.id === after);
    if (at < 0) throw invalidRequest(`Invalid 'after': no input item '${after}' in response '${id}'.`, "after", "invalid_value");
    items = items.slice(at + 1);
  }
  const page = items.slice(0, limit);
  return Response.json({
    object: "list",
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
    has_more: items.length > page.length,
  });
}
