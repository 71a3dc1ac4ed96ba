/** Run `dig` against a test server and pick its output apart. */
export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  opt: string | undefined;
  raw: string;
}

export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const p = Bun.spawn(["dig", "@127.0.0.1", "-p", String(port), "+nocookie", "+time=2", "+tries=1", ...args], { stdout: "pipe", stderr: "pipe" });
  const raw = await new Response(p.stdout).text();
  await p.exited;
  const section = (name: string) => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
    return m ? m[1]!.split("\n").filter((l) => l && !l.startsWith(";")).map((l) => l.replace(/\s+/g, " ").trim()) : [];
  };
  return {
    status: /status: (\S+),/.exec(raw)?.[1] ?? "NONE",
    flags: (/;; flags: ([^;]*);/.exec(raw)?.[1] ?? "").trim().split(" ").filter(Boolean),
    answer: section("ANSWER"),
    authority: section("AUTHORITY"),
    additional: section("ADDITIONAL"),
    opt: /; EDNS: (.*)/.exec(raw)?.[1],
    raw,
  };
}
