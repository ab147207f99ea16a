// The API client, generated from the OpenAPI document (console/openapi.json, kept equal to the served
// /openapi.json by tests/tests/openapi.rs): every path, body and answer is typed by `schema.d.ts`.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "../lib/session";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Performance = Schemas["Performance"];
export type Showtime = Schemas["Showtime"];
export type SeatMapView = Schemas["SeatMapView"];
export type Reservation = Schemas["Reservation"];
export type Payment = Schemas["Payment"];
export type PerformanceInput = Schemas["PerformanceInput"];
export type ShowtimeInput = Schemas["ShowtimeInput"];
export type GradeInput = Schemas["GradeInput"];
export type Category = Schemas["Category"];
export type SeatId = Schemas["SeatId"];
export type PaymentInput = Schemas["PaymentInput"];
export type Locale = Schemas["Locale"];

const auth: Middleware = {
  onRequest({ request }) {
    const s = session.current();
    if (s) request.headers.set("authorization", `Bearer ${s.accessToken}`);
    return request;
  },
  async onResponse({ request, response }) {
    // API Gateway refuses a missing token with 401 and the authorizer an expired or revoked one with 403
    // `{"message": ...}` (not a problem document): either way the session is over.
    const gatewayRefusal =
      response.status === 403 && !(response.headers.get("content-type") ?? "").includes("problem");
    if (request.headers.has("authorization") && (response.status === 401 || gatewayRefusal)) {
      session.expire();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** A problem document out of an error answer, whatever its shape (API Gateway's own errors are `{message}`). */
export function asProblem(error: unknown, status = 0): Problem {
  if (error && typeof error === "object" && "type" in error && "title" in error) return error as Problem;
  const message =
    error && typeof error === "object" && "message" in error ? String((error as { message: unknown }).message) : "";
  return { type: "about:blank", title: message || "Request failed", status, detail: message || `HTTP ${status}` };
}

/** A fresh key for one user action, sent as `Idempotency-Key` so a retried click is one write. */
export function newKey(): string {
  return crypto.randomUUID();
}
