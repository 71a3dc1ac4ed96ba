/** Several real processes writing at once: SQLite's write lock queues them and no write is lost. */
import { describe, expect, test } from "bun:test";
import { settingsProject } from "./project.ts";

describe("concurrent settings:set", () => {
  test("8 processes writing at once lose no write", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    // no store yet: the 8 writers also race to create it and run the migrations
    const procs = Array.from({ length: 8 }, (_, i) =>
      p.run(["settings:set", ...Array.from({ length: 5 }, (_, k) => `w${i}.k${k}=v${i}-${k}`), `shared.last=writer-${i}`]),
    );
    const results = await Promise.all(procs);
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, ""]));
    const all = JSON.parse(await p.ok(["settings:export", "--format", "json"]));
    for (let i = 0; i < 8; i++) for (let k = 0; k < 5; k++) expect(all[`w${i}.k${k}`]).toBe(`v${i}-${k}`);
    expect(JSON.parse(await p.ok(["settings:history", "shared.last", "--json"]))).toHaveLength(8);
  });

  test("secrets written while key:rotate runs all stay readable", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "before=b"]);
    const writers = Array.from({ length: 5 }, (_, i) => p.run(["settings:set", "--secret", `during${i}=d${i}`]));
    const rotate = p.run(["key:rotate"]);
    const results = await Promise.all([...writers, rotate]);
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    const all = JSON.parse(await p.ok(["settings:export", "--format", "json", "--reveal"]));
    expect(all).toEqual({ before: "b", during0: "d0", during1: "d1", during2: "d2", during3: "d3", during4: "d4" });
    // every secret is decryptable; any written before the rotation took the lock was re-encrypted
    const info = JSON.parse(await p.ok(["key:info", "--json"]));
    expect(info.secrets_undecryptable).toEqual([]);
    expect(info.secrets_under_previous_key).toEqual([]);
  });
});
