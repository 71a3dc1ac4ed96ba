/**
 * `securely sdk:types`: the declarations of the "securely" module for editors and tsc. The text is
 * generated from the sources at build/test time (src/core/sdk/generate.ts, kept fresh by
 * test/core/sdk/types.test.ts) and embedded as text, so the binary carries no TypeScript compiler.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { defineCommand } from "../module.ts";
import { SecurelyError, errorMessage } from "../errors.ts";
import { VERSION } from "../version.ts";
import declarations from "./securely.d.ts.txt" with { type: "text" };

/** The file's content: the generated declarations under a header naming the version. */
export function sdkTypes(): string {
  return `// securely ${VERSION} — written by \`securely sdk:types\`; rewrite it after upgrading securely.\n${declarations}`;
}

/** The names `import { … } from "securely"` offers (values and types), in file order. */
export function sdkTypeNames(text = declarations): string[] {
  return [...text.matchAll(/^ {4}export (?:interface|type|class|function|const|enum) (\w+)/gm)].map((m) => m[1]!).filter((n, i, all) => all.indexOf(n) === i);
}

export const sdkTypesCommand = defineCommand({
  name: "sdk:types",
  description: 'Write securely.d.ts next to the config: the types of `import … from "securely"` for editors (--out FILE, - for stdout)',
  args: {
    out: { type: "string", description: "File to write (default: securely.d.ts next to the config file); - prints to stdout" },
  },
  run({ app, args }) {
    const text = sdkTypes();
    if (args.out === "-") {
      process.stdout.write(text);
      return 0;
    }
    const file = args.out ? resolve(app.cwd, args.out) : join(app.baseDir, "securely.d.ts");
    if (!existsSync(dirname(file))) throw new SecurelyError(`sdk:types: folder ${dirname(file)} does not exist`, { hint: "create it, or pass --out with another path" });
    try {
      writeFileSync(file, text);
    } catch (err) {
      throw new SecurelyError(`sdk:types: cannot write ${file}: ${errorMessage(err)}`, { hint: "pass --out with a writable path, or --out - for stdout" });
    }
    const names = sdkTypeNames();
    app.print({ file, bytes: Buffer.byteLength(text), exports: names }, (r) => `wrote ${r.file} (${r.exports.length} declarations)`);
    return 0;
  },
});
