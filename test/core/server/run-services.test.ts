import { describe, expect, test } from "bun:test";
import { orderByDependencies, stopAll } from "../../../src/core/server/run-services.ts";
import type { Service } from "../../../src/core/server/service.ts";

describe("orderByDependencies", () => {
  const svc = (name: string, dependsOn?: string[]): Service => ({ name, kind: "background", dependsOn, start: async () => {}, stop: async () => {} });
  test("a service starts after the ones it depends on; unknown names are ignored; cycles are named", () => {
    expect(orderByDependencies([svc("proxy", ["tls", "cache"]), svc("tls"), svc("metrics")]).map((s) => s.name)).toEqual(["tls", "proxy", "metrics"]);
    expect(() => orderByDependencies([svc("a", ["b"]), svc("b", ["a"])])).toThrow("service dependency cycle: a → b → a");
  });
});

describe("stopAll", () => {
  test("a service stops before what it depends on; independent ones stop together", async () => {
    const events: string[] = [];
    const svc = (name: string, dependsOn?: string[]): Service => ({
      name,
      kind: "background",
      dependsOn,
      start: async () => {},
      stop: async () => {
        events.push(`${name}:begin`);
        await Bun.sleep(20);
        events.push(`${name}:end`);
      },
    });
    await stopAll([svc("tls"), svc("proxy", ["tls"]), svc("metrics")], { graceful: true, timeoutMs: 100 });
    expect(events.indexOf("proxy:end")).toBeLessThan(events.indexOf("tls:begin"));
    // proxy and metrics overlap
    expect(events.indexOf("metrics:begin")).toBeLessThan(events.indexOf("proxy:end"));
  });
});
