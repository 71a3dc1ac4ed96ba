import { describe, expect, test } from "bun:test";
import { HoldGovernor, MAX_RUNS_BETWEEN_PROBES, PROBE_MS, RUN_MS } from "../../../../src/dns/server/native/hold-governor.ts";

/**
 * Drive the governor with rounds every `stepMs`; `rate(holding)` is the queries per ms the clients
 * send while rounds may be held or not. Returns the governor after `ms` of simulated time.
 */
function drive(g: HoldGovernor, from: number, ms: number, rate: (holding: boolean) => number, stepMs = 1): number {
  let t = from;
  for (; t < from + ms; t += stepMs) g.record(t, rate(g.allowed) * stepMs);
  return t;
}

describe("HoldGovernor", () => {
  test("starts holding", () => {
    const g = new HoldGovernor(0);
    expect(g.mode).toBe("hold");
    expect(g.allowed).toBe(true);
  });

  test("keeps holding when the clients send at the same rate either way (open loop: a paced load)", () => {
    const g = new HoldGovernor(0);
    drive(g, 0, 20_000, () => 20);
    expect(g.mode).toBe("hold");
  });

  test("stops holding when clients wait for their answers (not holding answers them faster)", () => {
    const g = new HoldGovernor(0);
    drive(g, 0, RUN_MS + PROBE_MS + 2, (holding) => (holding ? 25 : 75));
    expect(g.mode).toBe("free");
    expect(g.allowed).toBe(false);
  });

  test("goes back to holding when the load becomes paced (the run that saw the change is discounted: two runs)", () => {
    const g = new HoldGovernor(0);
    const t = drive(g, 0, 10_000, (holding) => (holding ? 25 : 75));
    expect(g.mode).toBe("free");
    drive(g, t, 2 * (MAX_RUNS_BETWEEN_PROBES * RUN_MS + PROBE_MS) + 2, () => 20);
    expect(g.mode).toBe("hold");
  });

  test("a settled choice still reacts within about two runs when the load changes", () => {
    const g = new HoldGovernor(0);
    // a long paced load: holding is settled and probed rarely
    const t = drive(g, 0, 20_000, () => 20);
    expect(g.mode).toBe("hold");
    // clients now wait in lockstep: the rate jumps, which triggers a probe at once
    drive(g, t, 2 * RUN_MS + PROBE_MS + 2, (holding) => (holding ? 50 : 100));
    expect(g.mode).toBe("free");
  });

  test("a small difference in rate (noise) does not give up holding", () => {
    const g = new HoldGovernor(0);
    drive(g, 0, 10_000, (holding) => (holding ? 20 : 22));
    expect(g.mode).toBe("hold");
  });

  test("an idle server holds (nothing to compare) and a probe lasts PROBE_MS", () => {
    const g = new HoldGovernor(0);
    g.record(RUN_MS, 0);
    expect(g.allowed).toBe(false); // probing the free mode
    g.record(RUN_MS + PROBE_MS - 1, 0);
    expect(g.allowed).toBe(false);
    g.record(RUN_MS + PROBE_MS, 0);
    expect(g.mode).toBe("hold");
    expect(g.allowed).toBe(true);
  });

  test("a confirmed choice is probed less often", () => {
    const g = new HoldGovernor(0);
    let probes = 0;
    let was = g.allowed;
    for (let t = 0; t < 20_000; t++) {
      g.record(t, 20);
      if (g.allowed !== was && !g.allowed) probes++;
      was = g.allowed;
    }
    // after 1, 2, 4, 8, then 16 runs: far fewer than one probe per run
    expect(probes).toBeLessThanOrEqual(20_000 / (MAX_RUNS_BETWEEN_PROBES * RUN_MS) + 5);
    expect(probes).toBeGreaterThanOrEqual(4);
  });
});
