/** Baseline for the upstream-client measurement: Bun.serve + fetch, the naive proxy from the issue. */
const upstream = process.argv[2]!;
const port = Number(process.argv[3]);
Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(req) {
    const u = new URL(req.url);
    return fetch(`http://${upstream}${u.pathname}${u.search}`, { method: req.method, headers: req.headers, body: req.body, redirect: "manual" } as RequestInit);
  },
});
console.log(`naive listening on ${port}`);
