/**
 * Built-in activity `securely.http`: send the body (default: POST JSON) to a URL. A 2xx answer is
 * success and its body (JSON when it is JSON) the result; 4xx other than 408/429 fail without
 * retry, since sending the same request again will not help; 5xx and network errors retry.
 */
import { NonRetryableError } from "../errors.ts";
import { defineActivity } from "../sdk.ts";

export interface HttpInput {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export const httpActivity = defineActivity<HttpInput>("securely.http", async (input, ctx) => {
  if (!input || typeof input.url !== "string") throw new NonRetryableError("securely.http: input.url is required");
  const method = (input.method ?? "POST").toUpperCase();
  const hasBody = method !== "GET" && method !== "HEAD";
  const res = await fetch(input.url, {
    method,
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), "idempotency-key": ctx.idempotencyKey, ...(input.headers ?? {}) },
    body: hasBody ? (typeof input.body === "string" ? input.body : JSON.stringify(input.body ?? null)) : undefined,
    signal: ctx.signal,
  });
  const text = await res.text();
  if (!res.ok) {
    const msg = `${method} ${input.url} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new NonRetryableError(msg, "HttpClientError");
    throw new Error(msg);
  }
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
});
