import { describe, expect, test } from "bun:test";
import { formatDotenvLine, parseDotenv } from "../../../src/settings/formats/dotenv.ts";

describe("parseDotenv", () => {
  test("reads plain, quoted, exported and commented lines", () => {
    const text = [
      "# comment",
      "",
      "APP_NAME=securely",
      "export DB_HOST=127.0.0.1  # inline comment",
      "SINGLE='literal $HOME \\n'",
      'DOUBLE="tab\\tnew\\nline \\"q\\" \\$HOME"',
      'MULTI="line one',
      'line two"',
      "EMPTY=",
      "URL=http://x/#anchor",
    ].join("\n");
    expect(parseDotenv(text, ".env")).toEqual([
      ["APP_NAME", "securely"],
      ["DB_HOST", "127.0.0.1"],
      ["SINGLE", "literal $HOME \\n"],
      ["DOUBLE", 'tab\tnew\nline "q" $HOME'],
      ["MULTI", "line one\nline two"],
      ["EMPTY", ""],
      ["URL", "http://x/#anchor"],
    ]);
  });

  test("syntax errors name file and line but never echo the line", () => {
    expect(() => parseDotenv("A=1\nsecretvalue-without-equals\n", "prod.env")).toThrow("prod.env:2: expected KEY=VALUE");
    expect(() => parseDotenv('A="never closed\nB=2', "x.env")).toThrow("x.env:1: unterminated double quote");
    expect(() => parseDotenv("A='x' trailing", "x.env")).toThrow("x.env:1: unexpected text after the closing quote");
  });

  test("formatDotenvLine output parses back to the same value", () => {
    const values = ["simple", "", "with space", "it's", 'say "hi"', "multi\nline", "$HOME and ${X}", "back\\slash", "#hash", "tab\there"];
    for (const v of values) expect(parseDotenv(formatDotenvLine("K", v), "t")).toEqual([["K", v]]);
  });
});
