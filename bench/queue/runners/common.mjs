// Shared by every runner (Bun and Node): timing helpers and the result line the orchestrator reads.
export const N = Number(process.env.BENCH_N ?? 20000);
export const RATE = Number(process.env.BENCH_RATE ?? 500);
export const LAT_SECONDS = Number(process.env.BENCH_LAT_SECONDS ?? 3);
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : null;
}
export function report(name, results) {
  process.stdout.write(`RESULT ${JSON.stringify({ name, ...results })}\n`);
}
/** Offered load: call push(i, t) RATE times per second for LAT_SECONDS, on schedule (no coordinated omission). */
export async function offer(push) {
  const total = RATE * LAT_SECONDS;
  const start = now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 1) await sleep(wait - 0.5);
    while (now() < due) {} // spin the last half millisecond for an even schedule
    await push(i, now());
  }
  return total;
}
