/**
 * A small, strict argument parser: known flags only, so a typo never silently changes what
 * a command does.
 */

/** Parsed command line. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/** Parse argv against the allowed flags (`name` for booleans, `name=` for flags with a value). */
export function parseArgs(argv: string[], allowed: string[]): ParsedArgs {
  const withValue = new Set(allowed.filter((a) => a.endsWith('=')).map((a) => a.slice(0, -1)));
  const bools = new Set(allowed.filter((a) => !a.endsWith('=')));
  const out: ParsedArgs = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (withValue.has(name)) {
      const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      out.flags[name] = v;
    } else if (bools.has(name) && eq === -1) {
      out.flags[name] = true;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/** A command-line usage mistake (exit code 2). */
export class UsageError extends Error {}
