import { describe, expect, test } from "bun:test";
import { POLICIES } from "../../../src/proxy/selection/index.ts";
import { Peer } from "../../../src/proxy/upstream/peer.ts";

const opts = { connectionTimeoutMs: 1000, totalConnectionTimeoutMs: 1000, readTimeoutMs: 1000, writeTimeoutMs: 1000, idleTimeoutMs: 1000 };
const peers = (weights: number[]) => weights.map((w, i) => new Peer("u", `10.0.0.${i + 1}:80`, { weight: w, backup: false }, undefined, opts));
const all = () => true;

// contract: every policy honours `accept` and returns undefined when nothing is admitted
describe.each(Object.keys(POLICIES))("policy %s", (name) => {
  const make = (POLICIES as any)[name];
  test("only returns admitted peers", () => {
    const ps = peers([1, 1, 1]);
    const sel = make(ps);
    for (let i = 0; i < 50; i++) {
      const p = sel.select({ key: `k${i}` }, (x: Peer) => x !== ps[0]);
      expect(p).toBeDefined();
      expect(p).not.toBe(ps[0]);
    }
  });
  test("returns undefined when no peer is admitted", () => {
    const sel = make(peers([1, 2]));
    expect(sel.select({ key: "x" }, () => false)).toBeUndefined();
  });
  test("works with a single peer", () => {
    const ps = peers([3]);
    expect(make(ps).select({ key: "x" }, all)).toBe(ps[0]);
  });
});

describe("round_robin", () => {
  test("is smooth and weighted like nginx (5,1,1 → a a b a c a a)", () => {
    const ps = peers([5, 1, 1]);
    const sel = POLICIES.round_robin(ps);
    const seq = Array.from({ length: 7 }, () => ps.indexOf(sel.select({ key: "" }, all)!));
    expect(seq).toEqual([0, 0, 1, 0, 2, 0, 0]);
  });
});

describe("random", () => {
  test("follows weights roughly", () => {
    const ps = peers([3, 1]);
    const sel = POLICIES.random(ps);
    let a = 0;
    for (let i = 0; i < 4000; i++) if (sel.select({ key: "" }, all) === ps[0]) a++;
    expect(a / 4000).toBeGreaterThan(0.65);
    expect(a / 4000).toBeLessThan(0.85);
  });
});

describe("least_conn", () => {
  test("picks the peer with fewest requests in flight", () => {
    const ps = peers([1, 1, 1]);
    ps[0]!.active = 5;
    ps[1]!.active = 1;
    ps[2]!.active = 3;
    expect(POLICIES.least_conn(ps).select({ key: "" }, all)).toBe(ps[1]);
  });
  test("rotates among equally loaded peers", () => {
    const ps = peers([1, 1, 1]);
    const sel = POLICIES.least_conn(ps);
    const seen = new Set(Array.from({ length: 3 }, () => sel.select({ key: "" }, all)));
    expect(seen.size).toBe(3);
  });
});

describe("power_of_two", () => {
  test("never picks the busiest of two peers", () => {
    const ps = peers([1, 1]);
    ps[0]!.active = 10;
    const sel = POLICIES.power_of_two(ps);
    for (let i = 0; i < 20; i++) expect(sel.select({ key: "" }, all)).toBe(ps[1]);
  });
});

describe("consistent_hash", () => {
  test("maps a key to the same peer every time", () => {
    const sel = POLICIES.consistent_hash(peers([1, 1, 1]));
    const first = sel.select({ key: "user-42" }, all);
    for (let i = 0; i < 10; i++) expect(sel.select({ key: "user-42" }, all)).toBe(first!);
  });
  test("removing a peer only moves that peer's keys", () => {
    const ps = peers([1, 1, 1, 1]);
    const sel = POLICIES.consistent_hash(ps);
    const keys = Array.from({ length: 400 }, (_, i) => `key-${i}`);
    const before = keys.map((k) => sel.select({ key: k }, all));
    const after = keys.map((k) => sel.select({ key: k }, (p) => p !== ps[1]));
    keys.forEach((_, i) => {
      if (before[i] !== ps[1]) expect(after[i]).toBe(before[i]!);
      else expect(after[i]).not.toBe(ps[1]);
    });
    // and the keys spread over all peers
    expect(new Set(before).size).toBe(4);
  });
});

describe("cookie", () => {
  test("sends a client back to the peer its cookie names", () => {
    const ps = peers([1, 1, 1]);
    const sel = POLICIES.cookie(ps);
    for (let i = 0; i < 5; i++) expect(sel.select({ key: "", cookie: ps[2]!.id }, all)).toBe(ps[2]);
  });
  test("falls back to round robin when the named peer is down or unknown", () => {
    const ps = peers([1, 1]);
    const sel = POLICIES.cookie(ps);
    expect(sel.select({ key: "", cookie: ps[0]!.id }, (p) => p !== ps[0])).toBe(ps[1]);
    expect(sel.select({ key: "", cookie: "bogus" }, all)).toBeDefined();
  });
});

describe("first_available", () => {
  test("always the first admitted peer in order", () => {
    const ps = peers([1, 1, 1]);
    const sel = POLICIES.first_available(ps);
    expect(sel.select({ key: "" }, all)).toBe(ps[0]);
    expect(sel.select({ key: "" }, (p) => p !== ps[0])).toBe(ps[1]);
  });
});
