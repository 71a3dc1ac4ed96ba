/**
 * How this process starts another copy of itself (workers, the daemon, tests of upgrades).
 * A compiled binary is its own program: `process.execPath` is the binary and argv[1] is Bun's
 * virtual "/$bunfs/root/…" entry. Under `bun src/main.ts` (or a test entry script) the program is
 * bun plus the script path in argv[1].
 */
export function selfCommand(argv: string[] = process.argv, execPath: string = process.execPath): string[] {
  const script = argv[1];
  const compiled = script === undefined || script.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(script);
  return compiled ? [execPath] : [execPath, script];
}

/** The command line of this process without the program: what a re-exec passes again. */
export function selfArgs(argv: string[] = process.argv): string[] {
  return argv.slice(2);
}

/** Remove `-d`/`--daemon` (and `--daemon=…`) so the detached child does not detach again. */
export function withoutDaemonFlag(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a === "--") {
      out.push(...args.slice(args.indexOf(a)));
      break;
    }
    if (a === "--daemon" || a.startsWith("--daemon=")) continue;
    if (/^-[a-zA-Z]+$/.test(a) && a.includes("d")) {
      const rest = a.replace(/d/g, "");
      if (rest !== "-") out.push(rest);
      continue;
    }
    out.push(a);
  }
  return out;
}
