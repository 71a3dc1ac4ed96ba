/** dns:zone:*, dns:record:*, dns:setup and the dns config section, through the real CLI. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempDir, tempProject } from "../harness.ts";

const cli = (p: { env: Record<string, string> }, ...args: string[]) => runSecurely(args, { env: p.env });

describe("dns:zone and dns:record commands", () => {
  test("add a zone, add/set/list/remove records, with serials moving", async () => {
    const p = tempProject("dns:\n  local_domains: { test: 127.0.0.1 }\n");
    expect((await cli(p, "dns:zone:add", "Example.COM.", "--email", "ops@example.com", "--minimum", "120")).stdout).toMatch(/^zone example\.com created \(serial \d+\)/);
    const dup = await cli(p, "dns:zone:add", "example.com");
    expect([dup.code, dup.stderr.trim()]).toEqual([1, "securely: zone example.com already exists in the store — use dns:record:add to change it, or dns:zone:remove first"]);
    const a1 = await cli(p, "--json", "dns:record:add", "example.com", "www", "A", "192.0.2.1", "192.0.2.2", "--ttl", "60");
    expect(JSON.parse(a1.stdout)).toMatchObject({ added: 2 });
    await cli(p, "dns:record:add", "example.com", "@", "MX", "10", "mail");
    await cli(p, "dns:record:add", "example.com", "txt.example.com", "TXT", '"hello world"', '"second"');
    await cli(p, "dns:record:add", "example.com", "_443._tcp.www", "TLSA", "3 1 1 abcdef");
    const set = await cli(p, "--json", "dns:record:set", "example.com", "www", "A", "192.0.2.9");
    expect(JSON.parse(set.stdout)).toMatchObject({ removed: 2, added: 1 });
    const list = JSON.parse((await cli(p, "--json", "dns:record:list", "example.com")).stdout);
    expect(list.map((r: any) => [r.name, r.ttl, r.type, r.data])).toEqual([
      ["_443._tcp.www.example.com.", 3600, "TLSA", "3 1 1 ABCDEF"],
      ["example.com.", 3600, "MX", "10 mail.example.com."],
      ["txt.example.com.", 3600, "TXT", '"hello world" "second"'],
      ["www.example.com.", 3600, "A", "192.0.2.9"],
    ]);
    expect(JSON.parse((await cli(p, "--json", "dns:record:list", "example.com", "www", "--type", "A")).stdout).length).toBe(1);
    const rm = await cli(p, "--json", "dns:record:remove", "example.com", "@", "MX", "10", "mail.example.com.");
    expect(JSON.parse(rm.stdout).removed).toBe(1);
    expect((await cli(p, "dns:record:remove", "example.com", "nothing")).code).toBe(1);
    const zones = JSON.parse((await cli(p, "--json", "dns:zone:list")).stdout);
    expect(zones.map((z: any) => [z.zone, z.sources])).toEqual([["example.com", "store"], ["test", "local"]]);
    const removed = await cli(p, "dns:zone:remove", "example.com");
    expect(removed.stdout.trim()).toBe("zone example.com removed (3 records)");
  });

  test.each([
    [["dns:record:add", "nozone.example", "www", "A", "192.0.2.1"], "zone nozone.example does not exist in the store"],
    [["dns:record:add", "example.com", "www", "A", "300.1.1.1"], 'A www.example.com. "300.1.1.1": "300.1.1.1" is not an IPv4 address'],
    [["dns:record:add", "example.com", "www", "BOGUS", "x"], 'unknown record type "BOGUS"'],
    [["dns:record:add", "example.com", "www.other.org.", "A", "192.0.2.1"], "www.other.org. is not inside zone example.com"],
    [["dns:record:add", "example.com", "mail", "CNAME", "www"], "mail.example.com. would have a CNAME and other records"],
    [["dns:record:add", "example.com", "@", "SOA", "a b 1 2 3 4 5"], "the SOA is managed by securely"],
    [["dns:record:add", "example.com", "x", "TYPE999", "abc"], "write it as \\# LENGTH HEX"],
    [["dns:record:add", "example.com", "www", "A"], "missing record data"],
    [["dns:record:add", "example.com", "www", "A", "192.0.2.1", "--ttl", "soon"], '--ttl must be a whole number of seconds, got "soon"'],
  ])("%j fails clearly and stores nothing", async (args, message) => {
    const p = tempProject();
    await cli(p, "dns:zone:add", "example.com");
    await cli(p, "dns:record:add", "example.com", "mail", "A", "192.0.2.25");
    const r = await cli(p, ...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    const list = JSON.parse((await cli(p, "--json", "dns:record:list", "example.com")).stdout);
    expect(list.map((x: any) => x.name)).toEqual(["mail.example.com."]);
  });

  test("import a zone file into the store, export it back, and refuse a broken file whole", async () => {
    const p = tempProject();
    const file = join(p.dir, "example.org.zone");
    writeFileSync(file, `$ORIGIN example.org.\n$TTL 600\n@ SOA ns1 hostmaster 2024050501 3600 600 1209600 120\n  NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\nraw TYPE65000 \\# 2 ABCD\n`);
    const imp = await cli(p, "--json", "dns:zone:import", file);
    expect(JSON.parse(imp.stdout)).toMatchObject({ zone: "example.org", added: 4 });
    const exp = await cli(p, "dns:zone:export", "example.org");
    expect(exp.stdout).toContain("$ORIGIN example.org.\nexample.org.\t600\tIN\tSOA\tns1.example.org. hostmaster.example.org. ");
    expect(exp.stdout).toContain("www.example.org.\t600\tIN\tA\t192.0.2.80\n");
    expect(exp.stdout).toContain("raw.example.org.\t600\tIN\tTYPE65000\t\\# 2 ABCD\n");
    // the export imports again unchanged (into a fresh project)
    const q = tempProject();
    const again = join(q.dir, "again.zone");
    writeFileSync(again, exp.stdout);
    expect(JSON.parse((await cli(q, "--json", "dns:zone:import", again)).stdout).added).toBe(4);
    expect((await cli(q, "dns:zone:export", "example.org")).stdout.split("\n").slice(2)).toEqual(exp.stdout.split("\n").slice(2));
    const bad = join(p.dir, "bad.zone");
    writeFileSync(bad, "$ORIGIN bad.example.\n@ SOA a b 1 1 1 1 1\nwww A 192.0.2.1\nmx MX ten mail\n");
    const r = await cli(p, "dns:zone:import", bad);
    expect(r.stderr.trim()).toBe(`securely: ${bad}:4: MX mx.bad.example: preference must be an integer 0–65535, got "ten" — nothing was imported`);
    expect(JSON.parse((await cli(p, "--json", "dns:zone:list")).stdout).map((z: any) => z.zone)).toEqual(["example.org"]);
  });

  test("export serves config zones too, and an unknown zone is an error", async () => {
    const p = tempProject('dns:\n  zones:\n    inline.example:\n      records: ["www 60 A 203.0.113.5"]\n');
    expect((await cli(p, "dns:zone:export", "inline.example")).stdout).toContain("www.inline.example.\t60\tIN\tA\t203.0.113.5");
    const r = await cli(p, "dns:zone:export", "nope.example");
    expect(r.stderr.trim()).toBe("securely: zone nope.example is not served — see securely dns:zone:list");
  });
});

describe("dns:setup", () => {
  test("prints the systemd-resolved drop-in that routes only the dev TLD", async () => {
    const p = tempProject('dns:\n  listen: ["127.0.0.1:5300"]\n  local_domains: { test: 127.0.0.1 }\n');
    const r = await cli(p, "dns:setup", "--os", "linux");
    expect(r.stdout).toContain("DNS=127.0.0.1:5300\nDomains=~test\n");
    expect(r.stdout).toContain("sudo systemctl restart systemd-resolved");
  });
  test("--apply --root writes /etc/resolver/<tld> for macOS under the given root, touching nothing else", async () => {
    const p = tempProject('dns:\n  listen: ["127.0.0.1:5300"]\n  local_domains: { test: 127.0.0.1, localhost: 127.0.0.1 }\n');
    const root = tempDir();
    const r = await cli(p, "dns:setup", "--apply", "--os", "macos", "--root", root);
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, "etc/resolver/test"), "utf8")).toBe("# written by securely dns:setup\nnameserver 127.0.0.1\nport 5300\n");
    expect(existsSync(join(root, "etc/resolver/localhost"))).toBe(true);
  });
  test("without local domains it says what to configure", async () => {
    const r = await cli(tempProject(), "dns:setup");
    expect(r.stderr).toContain("no local-dev domains configured — add e.g.");
  });
});

describe("dns config section", () => {
  test("every problem is reported with its key path", async () => {
    const p = tempProject(`dns:\n  listn: []\n  rrl: { slip: -1 }\n`);
    const r = await cli(p, "config:check");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dns.listn: unknown key — did you mean 'listen'?");
    expect(r.stderr).toContain("dns.rrl.slip: expected at least 0, got -1");
  });
  test("networks, local-dev addresses and upstreams are checked too", async () => {
    const p = tempProject(`dns:\n  allow_query: ["10.0.0.0/99"]\n  local_domains: { test: "not-an-ip" }\n  forward:\n    upstreams: ["bad host:x"]\n`);
    const r = await cli(p, "config:check");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dns.allow_query.0: "10.0.0.0/99" is not a network');
    expect(r.stderr).toContain('dns.local_domains.test: expected IP addresses, got "not-an-ip"');
    expect(r.stderr).toContain('dns.forward.upstreams.0: "bad host:x" is not host or host:port');
  });
  test("a zone file error names the file and line at dns:serve start", async () => {
    const p = tempProject("dns:\n  listen: ['127.0.0.1:0']\n  zones:\n    example.com:\n      file: broken.zone\n");
    writeFileSync(join(p.dir, "broken.zone"), "@ SOA a b 1 1 1 1 1\nwww A nope\n");
    const r = await cli(p, "dns:serve");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(p.dir, "broken.zone")}:2: A www.example.com: "nope" is not an IPv4 address`);
  });
});
