/**
 * Flag matching in every spelling a getopt-style program accepts: `-f X`, `-fX`, clusters
 * such as `-rf`, `--file X`, `--file=X` and GNU unambiguous abbreviations (`--fi=X`).
 * Matching is deliberately generous (a letter anywhere in a short cluster counts) so that
 * deny checks fail closed.
 */

/** Arguments that can be options: everything before a bare `--`. */
export function optionWords(args: string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
}

/** Well-known short/long equivalents, so `deny_flags: [-r]` also stops `--recursive`. */
const ALIASES: Record<string, string[][]> = {
  grep: [['-f', '--file'], ['-r', '--recursive'], ['-R', '--dereference-recursive'], ['-e', '--regexp'], ['-d', '--directories']],
  egrep: [['-f', '--file'], ['-r', '--recursive'], ['-R', '--dereference-recursive'], ['-e', '--regexp']],
  fgrep: [['-f', '--file'], ['-r', '--recursive'], ['-R', '--dereference-recursive'], ['-e', '--regexp']],
  sed: [['-i', '--in-place'], ['-f', '--file'], ['-e', '--expression']],
  tail: [['-f', '--follow'], ['-n', '--lines'], ['-c', '--bytes']],
  head: [['-n', '--lines'], ['-c', '--bytes']],
  ls: [['-R', '--recursive']],
  sort: [['-o', '--output'], ['-T', '--temporary-directory']],
  tar: [['-I', '--use-compress-program'], ['-F', '--info-script', '--new-volume-script'], ['-T', '--files-from']],
  rsync: [['-e', '--rsh']],
  du: [['-X', '--exclude-from']],
  file: [['-f', '--files-from']],
  systemctl: [['-H', '--host'], ['-M', '--machine']],
};

/** A flag and its known equivalent spellings for one program. */
export function spellings(program: string, flag: string): string[] {
  for (const group of ALIASES[program] ?? []) {
    if (group.includes(flag)) return group;
  }
  return [flag];
}

/** Does one argument word spell `flag`? Returns false for operands. */
export function wordSpellsFlag(word: string, flag: string): boolean {
  if (flag.startsWith('--')) {
    if (!word.startsWith('--') || word === '--') return false;
    const name = word.slice(2).split('=', 1)[0] as string;
    return name.length > 0 && flag.slice(2).startsWith(name);
  }
  if (/^-[^-]$/.test(flag)) {
    if (!word.startsWith('-') || word.startsWith('--') || word.length < 2) return false;
    return word.slice(1).includes(flag.slice(1));
  }
  if (flag.startsWith('-')) return word === flag || word.startsWith(`${flag}=`);
  return word === flag;
}

/** First argument (before `--`) that spells one of `flags` for `program`, or null. */
export function findFlag(program: string, args: string[], flags: readonly string[]): { flag: string; word: string } | null {
  const words = optionWords(args);
  for (const flag of flags) {
    for (const f of spellings(program, flag)) {
      const word = words.find((w) => wordSpellsFlag(w, f));
      if (word !== undefined) return { flag, word };
    }
  }
  return null;
}

/**
 * Every option letter / long name a word uses, for allow_flags checks. Short clusters stop
 * at the first digit (`-n100`); long options drop their `=value`.
 */
export function flagsUsed(word: string): string[] {
  if (word === '-' || word === '--' || !word.startsWith('-')) return [];
  if (word.startsWith('--')) return [`--${word.slice(2).split('=', 1)[0] as string}`];
  const out: string[] = [];
  for (const ch of word.slice(1)) {
    if (/[0-9]/.test(ch)) break;
    out.push(`-${ch}`);
  }
  return out;
}
