/**
 * Option parsing shared by the `warden transcripts` subcommands: `--name VALUE` or `--name=VALUE`,
 * a few value-less flags, and a usage error that the command turns into exit code 2.
 */

import type { TranscriptStore } from '../recorder/types.js';

/** A bad command line; why: reported with the usage text and exit code 2, never as a failure. */
export class UsageError extends Error {}

/** Parsed options: the last value of each, every value in order (repeatable ones), flags, positionals. */
export interface ParsedOptions {
  opts: Map<string, string>;
  all: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

/** Parse `args` against the known value options and flags; why: one strict parser for every subcommand. */
export function options(args: string[], known: string[], flagNames: string[] = []): ParsedOptions {
  const opts = new Map<string, string>();
  const all = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (flagNames.includes(name) && eq < 0) {
      flags.add(name);
      continue;
    }
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    opts.set(name, value);
    all.set(name, [...(all.get(name) ?? []), value]);
  }
  return { opts, all, flags, positional };
}

/** A record number option; why: seqs are positive integers, anything else is a usage error. */
export function seqOpt(v: string, name: string): number {
  if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`${name} must be a positive integer`);
  return Number(v);
}

/** The store of a subcommand, opened now if the caller gave a way to open it; why: only after the arguments parsed. */
export async function storeOf(io: { store: TranscriptStore | (() => Promise<TranscriptStore>) }): Promise<TranscriptStore> {
  return typeof io.store === 'function' ? io.store() : io.store;
}
