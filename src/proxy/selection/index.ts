/** Static registry of load-balancing policies: `balance:` in an upstream names one of these. */
import { consistentHash } from "./consistent-hash.ts";
import { cookieSticky } from "./cookie.ts";
import { firstAvailable } from "./first-available.ts";
import { leastConn } from "./least-conn.ts";
import { powerOfTwo } from "./power-of-two.ts";
import { random } from "./random.ts";
import { roundRobin } from "./round-robin.ts";
import type { SelectorFactory } from "./types.ts";

export const POLICIES = {
  round_robin: roundRobin,
  random,
  power_of_two: powerOfTwo,
  least_conn: leastConn,
  consistent_hash: consistentHash,
  cookie: cookieSticky,
  first_available: firstAvailable,
} satisfies Record<string, SelectorFactory>;

export const POLICY_NAMES = Object.keys(POLICIES);

export type { Selector, SelectContext, SelectorFactory } from "./types.ts";
