/**
 * `http` handler: POST the payload as JSON; any 2xx is success. Bun's fetch keeps connections
 * alive in a per-origin pool; the attempt's abort signal enforces the timeout.
 */
import type { HandlerRun } from "./resolve.ts";

export function httpHandler(url: string, headers: Record<string, string>, outputLimit: number): HandlerRun {
  return async (payloadText, ctx) => {
    const res = await fetch(url, {
      method: "POST",
      body: payloadText,
      headers: {
        "content-type": "application/json",
        "x-securely-job-id": String(ctx.jobId),
        "x-securely-job-attempt": String(ctx.attempt),
        "x-securely-job-queue": ctx.queue,
        ...headers,
      },
      signal: ctx.signal,
    });
    const body = (await res.text()).slice(0, outputLimit);
    if (res.status < 200 || res.status > 299) throw Object.assign(new Error(`${url} answered ${res.status}`), { output: body });
    return { output: body };
  };
}
