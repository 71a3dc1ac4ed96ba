/**
 * Whether adaptive batching (./reactor.ts) may hold rounds right now. Holding trades latency for
 * CPU, and it only pays when the queries keep arriving regardless of how fast they are answered
 * (many independent clients, dnsperf at a fixed rate). Clients that wait for their answers before
 * asking again (stub resolvers in lockstep, `dnsperf -q 10`) slow down by exactly the added
 * latency: holding cut such a load from ~80k to ~25k QPS with p50 0.3 ms instead of 0.05 ms.
 *
 * So the two modes are compared now and then on the live traffic: a short probe runs the other
 * mode, and the mode that does not lose query rate wins. Holding needs no more than rough equality
 * (it is the cheaper mode); not holding wins when it is clearly faster.
 */

/** Rates are measured over runs of this many ms. */
export const RUN_MS = 100;
/** How long a probe of the other mode runs, ms. */
export const PROBE_MS = 10;
/** A settled choice is probed after 1, 2, 4… then at most this many runs (probes cost latency or CPU). */
export const MAX_RUNS_BETWEEN_PROBES = 16;
/** Not holding must answer this much faster to win (rate noise on a paced load stays well below). */
const FASTER = 1.2;
/** A run this much faster or slower than the chosen mode's rate at the last probe means the load changed: probe at once. */
const CHANGED = 2;
/** Queries per ms below which rates are not compared (rounds of one query are never held anyway). */
const NOISE = 1;

export class HoldGovernor {
  private holding = true;
  private probing = false;
  private phaseStart: number;
  private count = 0;
  private lastRunRate = -1;
  /** The chosen mode's rate when it was last chosen (-1: none yet). */
  private refRate = -1;
  private runsLeft = 1;
  private settled = 0;

  constructor(now: number) {
    this.phaseStart = now;
  }

  /** Rounds may be held now (in a probe: the opposite of the chosen mode). */
  get allowed(): boolean {
    return this.holding !== this.probing;
  }

  /** The chosen mode, for status and tests. */
  get mode(): "hold" | "free" {
    return this.holding ? "hold" : "free";
  }

  /** A round at `now` answered `answered` queries. */
  record(now: number, answered: number): void {
    this.count += answered;
    const elapsed = now - this.phaseStart;
    if (elapsed < (this.probing ? PROBE_MS : RUN_MS)) return;
    const rate = this.count / elapsed;
    this.phaseStart = now;
    this.count = 0;
    if (this.probing) {
      // the run before the probe measured the chosen mode
      const holdRate = this.holding ? this.lastRunRate : rate;
      const freeRate = this.holding ? rate : this.lastRunRate;
      const holding = !(freeRate > FASTER * holdRate + NOISE);
      this.settled = holding === this.holding ? Math.min(this.settled + 1, Math.log2(MAX_RUNS_BETWEEN_PROBES)) : 0;
      this.holding = holding;
      this.refRate = holding ? holdRate : freeRate;
      this.probing = false;
      this.runsLeft = 2 ** this.settled;
      this.lastRunRate = -1;
      return;
    }
    const ref = this.refRate;
    const changed = ref >= 0 && Math.abs(rate - ref) > NOISE && (rate > CHANGED * ref || ref > CHANGED * rate);
    this.lastRunRate = rate;
    if (changed) this.settled = 0;
    if (changed || --this.runsLeft <= 0) this.probing = true;
  }
}
