/**
 * A closed getopt reading for the programs copy-models.ts and archive-models.ts model: every
 * option must be one the spec lists, or the reading names it `unknown` (the caller refuses it
 * under `paths:`, fail closed: an unlisted option may name a file or change what the operands
 * mean). A short option that takes a value ends its cluster (`-T/tmp` is `-T /tmp`); `--x=v` and
 * `--x v` give v to x; `--` ends the options; `-` alone is an operand.
 */
import type { FileWords } from './operands.js';

/** Which options one program has. */
export interface OptionSpec {
  /** The program's name, for the refusal text. */
  name: string;
  /** Short option letters that take no value. */
  flags: string;
  /** Short option letters that take a value (the rest of the word or the next word). */
  values: string;
  /** Long options without a value; `--x=v` on one of them is unknown. */
  longFlags: readonly string[];
  /** Long options that take a value. */
  longValues: readonly string[];
  /** GNU getopt_long: a prefix of exactly one long option stands for it. */
  abbreviations?: boolean;
  /** rsync's `--no-OPTION` turns off any long flag. */
  negations?: boolean;
}

/** One option used: its canonical spelling (`-T`, `--temp-dir`) and its value. */
export interface SpecOption {
  flag: string;
  value?: string;
}

/** A command's words read with a spec. */
export interface SpecWords {
  options: SpecOption[];
  operands: string[];
  /** The first option word the spec does not know. */
  unknown?: string;
  /** The values of the option words it does not know (`--x=V`, the rest of a cluster), path-like checked (for deny rules). */
  strays: string[];
}

/** The long option `name` stands for (exact, or an unambiguous prefix where allowed), or undefined. */
function longOption(spec: OptionSpec, name: string): { flag: string; takes: boolean } | undefined {
  if (spec.longFlags.includes(name)) return { flag: name, takes: false };
  if (spec.longValues.includes(name)) return { flag: name, takes: true };
  if (spec.negations === true && name.startsWith('--no-') && spec.longFlags.includes(`--${name.slice(5)}`)) return { flag: name, takes: false };
  if (spec.abbreviations !== true || name.length < 3) return undefined;
  const hits = [...spec.longFlags, ...spec.longValues].filter((f) => f.startsWith(name));
  if (hits.length !== 1) return undefined;
  const flag = hits[0] as string;
  return { flag, takes: spec.longValues.includes(flag) };
}

/** Read `args` with `spec`: options with their values, operands, and the first unknown option word. */
export function scanSpec(spec: OptionSpec, args: readonly string[]): SpecWords {
  const out: SpecWords = { options: [], operands: [], strays: [] };
  const unknown = (w: string): void => {
    out.unknown ??= w;
    const eq = w.indexOf('=');
    out.strays.push(eq >= 0 ? w.slice(eq + 1) : w);
  };
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const long = longOption(spec, eq < 0 ? w : w.slice(0, eq));
      if (long === undefined || (!long.takes && eq >= 0)) unknown(w);
      else if (!long.takes) out.options.push({ flag: long.flag });
      else out.options.push({ flag: long.flag, value: eq >= 0 ? w.slice(eq + 1) : args[++i] });
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let k = 1; k < w.length; k++) {
        const c = w[k] as string;
        if (spec.values.includes(c)) {
          out.options.push({ flag: `-${c}`, value: k + 1 < w.length ? w.slice(k + 1) : args[++i] });
          break;
        }
        if (!spec.flags.includes(c)) {
          unknown(w);
          break;
        }
        out.options.push({ flag: `-${c}` });
      }
      continue;
    }
    out.operands.push(w);
  }
  return out;
}

/** Is one of `flags` used? */
export function uses(scanned: SpecWords, ...flags: string[]): boolean {
  return scanned.options.some((o) => flags.includes(o.flag));
}

/** The values given to `flags`, in order (a missing value is an empty name, so it is refused). */
export function valuesOf(scanned: SpecWords, ...flags: string[]): string[] {
  return scanned.options.filter((o) => flags.includes(o.flag)).map((o) => o.value ?? '');
}

/** Why an option the spec does not know is refused under `paths:`. */
export function unknownWhy(name: string, word: string): string {
  return `${name} option '${word}' is not one Warden models, so what it reads or writes cannot be judged under paths: (grant ${name} without paths: only where it may write anywhere)`;
}

/**
 * The words as FileWords: `reads` and `writes` are files (`-` is standard input or output);
 * `unjudged` the first reason given (an option the model does not know first).
 */
export function specFileWords(name: string, unknown: string | undefined, reads: string[], writes: string[], why?: string, pathLike: string[] = []): FileWords {
  const files = [...reads, ...writes].filter((f) => f !== '-');
  const out: FileWords = { files, pathLike, writes: writes.filter((f) => f !== '-') };
  const unjudged = unknown !== undefined ? unknownWhy(name, unknown) : why;
  if (unjudged !== undefined) out.unjudged = unjudged;
  return out;
}

/**
 * A word that names a file on another host: a colon before any slash (`host:path`,
 * `user@host:path`, `host::module`, `rsync://h/m`, `scp://h/x`), as rsync and scp read it.
 */
export function remoteWord(word: string): boolean {
  const colon = word.indexOf(':');
  if (colon < 0) return false;
  const slash = word.indexOf('/');
  return slash < 0 || colon < slash;
}

/** Why a remote operand is refused under `paths:`. */
export function remoteWhy(name: string, word: string): string {
  return `${name} operand '${word}' is on another host, which paths: cannot bound (grant ${name} without paths: only where it may reach other hosts)`;
}
