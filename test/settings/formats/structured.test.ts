import { describe, expect, test } from "bun:test";
import { formatSettings, parseSettingsFile } from "../../../src/settings/formats/index.ts";

describe("structured formats", () => {
  test("nested mappings flatten to dotted keys; scalars become strings, lists JSON", () => {
    const yaml = "mail:\n  smtp:\n    host: smtp.example.com\n    port: 587\n  tls: true\nhosts: [a, b]\nnothing: null\n";
    expect(parseSettingsFile(yaml, "yaml", "s.yaml")).toEqual([
      ["mail.smtp.host", "smtp.example.com"],
      ["mail.smtp.port", "587"],
      ["mail.tls", "true"],
      ["hosts", '["a","b"]'],
      ["nothing", ""],
    ]);
    expect(parseSettingsFile('{"a":{"b":"c"}}', "json", "s.json")).toEqual([["a.b", "c"]]);
  });

  test("export then import round trips in every format", () => {
    const entries: Array<[string, string]> = [["mail.smtp.host", "h"], ["DB_PASSWORD", "p@ss w'rd\n2"], ["empty", ""]];
    for (const f of ["json", "yaml"] as const) expect(parseSettingsFile(formatSettings(entries, f), f, "x")).toEqual(entries);
    expect(parseSettingsFile(formatSettings(entries, "env"), "env", "x")).toEqual([["MAIL_SMTP_HOST", "h"], ["DB_PASSWORD", "p@ss w'rd\n2"], ["EMPTY", ""]]);
  });

  test("bad documents are one-line errors naming the file", () => {
    expect(() => parseSettingsFile("[1, 2]", "json", "s.json")).toThrow("s.json: expected a mapping of keys at the top level");
    expect(() => parseSettingsFile('{"a": "secret', "json", "s.json")).toThrow(/^s\.json: invalid JSON/);
    expect(() => parseSettingsFile("a: [\n", "yaml", "s.yaml")).toThrow(/^s\.yaml: invalid YAML/);
  });
});
