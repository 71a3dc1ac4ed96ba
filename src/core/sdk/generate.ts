/**
 * Build/test-time only (imports the `typescript` package; the binary must never import this file):
 * writes src/core/sdk/securely.d.ts.txt, the declarations of `import … from "securely"` that
 * `securely sdk:types` prints. The text is derived from the real sources so it cannot drift:
 *
 * - the values are every module's `sdk: { … }` (found in each `defineModule({ … })` call), the
 *   same objects src/core/sdk/plugin.ts puts into the runtime "securely" module;
 * - plus the type-only names of EXTRA_TYPES (hook contracts user files implement but never import
 *   as values);
 * - each is taken from TypeScript's own declaration emit of the file that declares it, and every
 *   type it mentions is pulled in the same way (a tiny declaration bundler), so the result is one
 *   self-contained `declare module "securely" { … }`.
 *
 * Regenerate: `npx bun src/core/sdk/generate.ts` (test/core/sdk/types.test.ts fails when stale).
 */
import ts from "typescript";
import { writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Types user code needs that no SDK value mentions: [file relative to the root, names]. Empty
 * today: ProxyHooks and HookContext come in through the proxy's defineProxyHooks.
 */
export const EXTRA_TYPES: Array<[string, string[]]> = [];

/**
 * Types from packages the user does not install: what the declarations say instead. Only the
 * surface user code touches; a new external type stops the generator until it is listed here.
 */
const EXTERNAL: Record<string, Record<string, string>> = {
  consola: {
    ConsolaInstance: [
      "/** The worker's logger (consola): `ctx.log.info(\"sent\", id)`. */",
      "export interface ConsolaInstance {",
      ...["fatal", "error", "warn", "log", "info", "success", "start", "box", "ready", "debug", "trace", "verbose"].map((m) => `    ${m}(message?: any, ...args: any[]): void;`),
      "}",
    ].join("\n"),
  },
};

export const OUTPUT = "src/core/sdk/securely.d.ts.txt";

interface Item {
  key: string;
  file: string;
  name: string;
  finalName: string;
  text?: string;
}

export function generateSdkTypes(root: string, extraTypes: Array<[string, string[]]> = EXTRA_TYPES): string {
  const configPath = join(root, "tsconfig.json");
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: false, declaration: true, emitDeclarationOnly: true, removeComments: false, declarationMap: false, sourceMap: false };
  const program = ts.createProgram([join(root, "src/main.ts")], options);
  const checker = program.getTypeChecker();
  const srcDir = join(root, "src") + sep;
  const rel = (f: string) => relative(root, f);

  // --- 1. the roots: every module's sdk values, then the extra types -------------------------
  const roots: Array<{ exportName: string; file: string; name: string }> = [];
  const aliased = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(srcDir)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "defineModule" && node.arguments[0] && ts.isObjectLiteralExpression(node.arguments[0])) {
        const prop = node.arguments[0].properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "sdk");
        if (prop) {
          const init = ts.isShorthandPropertyAssignment(prop) ? prop.name : ts.isPropertyAssignment(prop) ? prop.initializer : undefined;
          if (!init) throw new Error(`${rel(sf.fileName)}: sdk must be an object literal or a const holding one`);
          for (const p of checker.getTypeAtLocation(init).getProperties()) {
            const d = p.valueDeclaration;
            let value: ts.Symbol | undefined;
            if (d && ts.isShorthandPropertyAssignment(d)) value = checker.getShorthandAssignmentValueSymbol(d);
            else if (d && ts.isPropertyAssignment(d)) value = checker.getSymbolAtLocation(d.initializer);
            const target = value && aliased(value);
            const decl = target?.declarations?.[0];
            if (!target || !decl) throw new Error(`${rel(sf.fileName)}: sdk.${p.name} must name a declared function, class or const`);
            roots.push({ exportName: p.name, file: decl.getSourceFile().fileName, name: target.name });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const typeRoots: Array<{ file: string; name: string }> = [];
  for (const [file, names] of extraTypes) {
    const sf = program.getSourceFile(join(root, file));
    const modSym = sf && checker.getSymbolAtLocation(sf);
    if (!modSym) throw new Error(`EXTRA_TYPES: ${file} is not part of the program`);
    const exports = checker.getExportsOfModule(modSym);
    for (const n of names) {
      const s = exports.find((e) => e.name === n);
      const decl = s && aliased(s).declarations?.[0];
      if (!decl) throw new Error(`EXTRA_TYPES: ${file} no longer exports ${n} — update EXTRA_TYPES in src/core/sdk/generate.ts`);
      typeRoots.push({ file: decl.getSourceFile().fileName, name: aliased(s).name });
    }
  }

  // --- 2. declaration emit, per file, on demand -------------------------------------------------
  const dtsCache = new Map<string, ts.SourceFile>();
  const dts = (file: string): ts.SourceFile => {
    let out = dtsCache.get(file);
    if (out) return out;
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${rel(file)} is not part of the program`);
    let text = "";
    const r = program.emit(sf, (_name, data) => (text = data), undefined, true);
    if (r.emitSkipped || !text) throw new Error(`declaration emit failed for ${rel(file)}: ${r.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")).join("; ")}`);
    out = ts.createSourceFile(file.replace(/\.ts$/, ".d.ts"), text, ts.ScriptTarget.ESNext, true);
    dtsCache.set(file, out);
    return out;
  };
  const resolveSpec = (spec: string, from: string): string => {
    const r = ts.resolveModuleName(spec, from, options, ts.sys).resolvedModule;
    if (!r) throw new Error(`${rel(from)}: cannot resolve '${spec}'`);
    return r.resolvedFileName;
  };
  const declaredName = (s: ts.Statement): string[] => {
    if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isClassDeclaration(s) || ts.isFunctionDeclaration(s) || ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s)) && s.name) return [s.name.text];
    if (ts.isVariableStatement(s)) return s.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
    return [];
  };

  // --- 3. the closure: each item's statements, with references pulled in and renamed -----------
  const items = new Map<string, Item>();
  const byName = new Map<string, string>();
  const queue: Item[] = [];
  const nsOf = (file: string) => rel(file).split(sep)[1] ?? "core";
  const itemFor = (file: string, name: string, keepName = false): Item => {
    const key = `${file}#${name}`;
    let it = items.get(key);
    if (it) return it;
    let finalName = name;
    if (byName.has(finalName)) {
      if (keepName) throw new Error(`two SDK exports are named ${name} (${rel(file)} and ${byName.get(name)})`);
      const ns = nsOf(file);
      finalName = ns[0]!.toUpperCase() + ns.slice(1) + name;
      if (byName.has(finalName)) throw new Error(`cannot name ${name} of ${rel(file)}: ${finalName} is taken too`);
    }
    byName.set(finalName, key);
    it = { key, file, name, finalName };
    items.set(key, it);
    queue.push(it);
    return it;
  };
  const externalItem = (pkg: string, name: string, from: string): Item => {
    const text = EXTERNAL[pkg]?.[name];
    if (!text) throw new Error(`${rel(from)}: SDK types mention ${name} from package '${pkg}', which user code does not have — add a stand-in to EXTERNAL in src/core/sdk/generate.ts`);
    const key = `${pkg}#${name}`;
    let it = items.get(key);
    if (!it) {
      if (byName.has(name)) throw new Error(`external ${pkg}.${name} clashes with ${byName.get(name)}`);
      byName.set(name, key);
      it = { key, file: pkg, name, finalName: name, text };
      items.set(key, it);
    }
    return it;
  };
  /** What a name used in `file`'s declarations refers to: an item, or undefined for a global. */
  const resolveLocal = (file: string, name: string): Item | undefined => {
    const sf = dts(file);
    for (const s of sf.statements) if (declaredName(s).includes(name)) return itemFor(file, name);
    for (const s of sf.statements) {
      if (!ts.isImportDeclaration(s) || !s.importClause || !ts.isStringLiteral(s.moduleSpecifier)) continue;
      const spec = s.moduleSpecifier.text;
      const nb = s.importClause.namedBindings;
      const hit = nb && ts.isNamedImports(nb) ? nb.elements.find((e) => e.name.text === name) : undefined;
      const other = s.importClause.name?.text === name || (nb && ts.isNamespaceImport(nb) && nb.name.text === name);
      if (other) throw new Error(`${rel(file)}: default/namespace import '${name}' in SDK types is not supported — use a named import`);
      if (!hit) continue;
      const imported = (hit.propertyName ?? hit.name).text;
      if (!spec.startsWith(".")) return externalItem(spec, imported, file);
      return followExport(resolveSpec(spec, file), imported);
    }
    return undefined;
  };
  /** `name` as exported by `file`: declared there, or re-exported (`export { }`, `export *`) from another file. */
  const findExport = (file: string, name: string, seen = new Set<string>()): Item | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    const sf = dts(file);
    if (sf.statements.some((s) => declaredName(s).includes(name))) return itemFor(file, name);
    for (const s of sf.statements) {
      if (!ts.isExportDeclaration(s) || !s.moduleSpecifier || !ts.isStringLiteral(s.moduleSpecifier)) continue;
      if (!s.moduleSpecifier.text.startsWith(".")) continue;
      const target = resolveSpec(s.moduleSpecifier.text, file);
      if (!s.exportClause) {
        const hit = findExport(target, name, seen);
        if (hit) return hit;
      } else if (ts.isNamedExports(s.exportClause)) {
        const e = s.exportClause.elements.find((x) => x.name.text === name);
        if (e) return findExport(target, (e.propertyName ?? e.name).text, seen);
      }
    }
    return resolveLocal(file, name);
  };
  const followExport = (file: string, name: string): Item => {
    const it = findExport(file, name);
    if (!it) throw new Error(`${rel(file)} does not export ${name}`);
    return it;
  };

  const render = (it: Item): string => {
    const sf = dts(it.file);
    const stmts = sf.statements.filter((s) => declaredName(s).includes(it.name));
    if (!stmts.length) throw new Error(`${rel(it.file)}: no declaration of ${it.name} in its declaration emit — export it from that file (TypeScript drops what nothing exported needs)`);
    const parts: string[] = [];
    for (const s of stmts) {
      if (ts.isVariableStatement(s) && s.declarationList.declarations.length > 1) throw new Error(`${rel(it.file)}: declare ${it.name} in its own const statement`);
      const edits: Array<{ start: number; end: number; text: string }> = [];
      const rename = (id: ts.Identifier, target: Item | undefined) => {
        if (target && target.finalName !== id.text) edits.push({ start: id.getStart(sf), end: id.end, text: target.finalName });
      };
      const leftmost = (n: ts.EntityName | ts.Expression): ts.Identifier | undefined =>
        ts.isIdentifier(n) ? n : ts.isQualifiedName(n) ? leftmost(n.left) : ts.isPropertyAccessExpression(n) ? leftmost(n.expression) : undefined;
      const walk = (n: ts.Node): void => {
        if (ts.isTypeReferenceNode(n) || ts.isTypeQueryNode(n) || ts.isExpressionWithTypeArguments(n)) {
          const id = leftmost(ts.isTypeReferenceNode(n) ? n.typeName : ts.isTypeQueryNode(n) ? n.exprName : n.expression);
          if (id) rename(id, resolveLocal(it.file, id.text));
        } else if (ts.isImportTypeNode(n)) {
          const arg = n.argument;
          if (!ts.isLiteralTypeNode(arg) || !ts.isStringLiteral(arg.literal) || !n.qualifier) throw new Error(`${rel(it.file)}: unsupported import type in ${it.name}`);
          const spec = arg.literal.text;
          const first = leftmost(n.qualifier)!;
          const target = spec.startsWith(".") ? followExport(resolveSpec(spec, it.file), first.text) : externalItem(spec, first.text, it.file);
          edits.push({ start: n.getStart(sf), end: first.end, text: (n.isTypeOf ? "typeof " : "") + target.finalName });
        }
        ts.forEachChild(n, walk);
      };
      walk(s);
      const named = s as ts.Statement & { name?: ts.Identifier };
      if (named.name && it.finalName !== it.name) edits.push({ start: named.name.getStart(sf), end: named.name.end, text: it.finalName });
      if (ts.isVariableStatement(s)) {
        const d = s.declarationList.declarations[0]!;
        if (it.finalName !== it.name) edits.push({ start: d.name.getStart(sf), end: d.name.end, text: it.finalName });
      }
      // the block is ambient already: `export` stays, `declare` and `default` must go
      for (const m of ts.canHaveModifiers(s) ? (ts.getModifiers(s) ?? []) : []) {
        if (m.kind === ts.SyntaxKind.DeclareKeyword || m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword) {
          let end = m.end;
          while (sf.text[end] === " ") end++;
          edits.push({ start: m.getStart(sf), end, text: "" });
        }
      }
      const start = s.getStart(sf);
      let body = sf.text.slice(start, s.end);
      for (const e of edits.sort((a, b) => b.start - a.start)) body = body.slice(0, e.start - start) + e.text + body.slice(e.end - start);
      // the statement's own doc comment: the last /** … */ right before it (not a file header)
      const comments = ts.getLeadingCommentRanges(sf.text, s.pos) ?? [];
      const doc = comments.at(-1);
      const docText = doc && sf.text.startsWith("/**", doc.pos) && !/\n\s*\n/.test(sf.text.slice(doc.end, start)) ? sf.text.slice(doc.pos, doc.end) + "\n" : "";
      parts.push(docText + "export " + body);
    }
    return parts.join("\n");
  };

  for (const r of roots) itemFor(r.file, r.name, true);
  for (const t of typeRoots) itemFor(t.file, t.name);
  const rendered = new Map<string, string>();
  while (queue.length) {
    const it = queue.shift()!;
    rendered.set(it.key, render(it));
  }
  for (const it of items.values()) if (it.text) rendered.set(it.key, it.text);

  const indent = (t: string) => t.split("\n").map((l) => (l ? "    " + l : l)).join("\n");
  const aliases = roots.filter((r) => r.exportName !== itemFor(r.file, r.name).finalName).map((r) => `    export { ${itemFor(r.file, r.name).finalName} as ${r.exportName} };`);
  return [
    "// The \"securely\" module user code imports (workflow files, queue handler modules, proxy hooks).",
    "// Generated from every module's `sdk` exports by src/core/sdk/generate.ts — do not edit.",
    'declare module "securely" {',
    [...rendered.values()].map(indent).join("\n\n"),
    ...(aliases.length ? ["", ...aliases] : []),
    "}",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), "../../..");
  const text = generateSdkTypes(root);
  writeFileSync(join(root, OUTPUT), text);
  process.stdout.write(`wrote ${OUTPUT} (${text.length} bytes)\n`);
}
