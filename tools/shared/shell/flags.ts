/**
 * Flag matching in every spelling a getopt-style program accepts: `-f X`, `-fX`, clusters
 * such as `-rf`, `--file X`, `--file=X` and GNU unambiguous abbreviations (`--fi=X`).
 * A program option-models.ts models is read as its getopt reads it: a short option that takes a
 * value ends its cluster (`grep -Dread` is `-D read`, no `-e` in it; `ln -sSxt` is `-S xt`, no
 * `-t`), and the word after an option that takes one is its value (`grep -e -r`). Any other
 * program is read generously (a letter anywhere in a short cluster counts) so that deny checks
 * fail closed.
 */
import { COMPILED } from './option-models.js';

/**
 * Arguments that can be options: everything before the `--` that ends them. A `--` right after an
 * option word that may take the next word as its value is that value, not the end: getopt gives
 * `tar --exclude -- --to-command=CMD` the pattern `--` and then runs CMD (likewise `git --namespace
 * -- -c K=V`, `ssh -i -- -oProxyCommand=CMD`, `rsync --exclude -- -e CMD`). Which options take a
 * value differs by program, so any option word that could (a short cluster ending in a letter, a
 * long option without `=`) counts as one: more words are options, which only refuses more.
 */
export function optionWords(args: string[]): string[] {
  const end = optionsEnd(args);
  return end < 0 ? args : args.slice(0, end);
}

/** Could this option word take the next word as its value (`-f`, `-xf`, `--exclude`)? */
function mayTakeValue(word: string): boolean {
  if (word.startsWith('--')) return word.length > 2 && !word.includes('=');
  return word.length > 1 && word.startsWith('-') && /[A-Za-z0-9]$/.test(word);
}

/**
 * The index of the `--` that ends the options (see optionWords), or -1. `takesValue` says whether
 * an option word takes the next word as its value (by default: any that could, generously).
 */
export function optionsEnd(args: readonly string[], takesValue: (word: string) => boolean = mayTakeValue): number {
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--') continue;
    if (i > 0 && takesValue(args[i - 1] as string)) continue;
    return i;
  }
  return -1;
}

/**
 * Arguments of `program` that can be options or act like them. find's `--` ends only its
 * leading options (-H, -L, -P, -D, -O): `-exec`, `-delete`, `-fprint` after it still act, so
 * for find every word counts.
 */
export function optionWordsOf(program: string, args: string[]): string[] {
  return program === 'find' ? args : optionWords(args);
}

const GREPS = ['grep', 'egrep', 'fgrep', 'zgrep'];
const GREP_ALIASES = [['-f', '--file'], ['-r', '--recursive'], ['-R', '--dereference-recursive'], ['-e', '--regexp'], ['-d', '--directories'], ['-o', '--only-matching'], ['-T', '--initial-tab']];

/** Well-known short/long equivalents, so `deny_flags: [-r]` also stops `--recursive`. */
const ALIASES: Readonly<Record<string, string[][]>> = {
  ...Object.fromEntries(GREPS.map((g) => [g, GREP_ALIASES])),
  sed: [['-i', '--in-place'], ['-f', '--file'], ['-e', '--expression']],
  tail: [['-f', '--follow'], ['-n', '--lines'], ['-c', '--bytes']],
  head: [['-n', '--lines'], ['-c', '--bytes']],
  ls: [['-R', '--recursive']],
  cat: [['-T', '--show-tabs'], ['-A', '--show-all']],
  sort: [['-o', '--output'], ['-T', '--temporary-directory']],
  tar: [['-I', '--use-compress-program'], ['-F', '--info-script', '--new-volume-script'], ['-T', '--files-from']],
  rsync: [['-e', '--rsh']],
  du: [['-X', '--exclude-from']],
  file: [['-f', '--files-from']],
  systemctl: [['-H', '--host'], ['-M', '--machine']],
  // GNU coreutils: -r and -R are one option for rm and cp.
  rm: [['-r', '-R', '--recursive'], ['-f', '--force'], ['-d', '--dir']],
  cp: [['-r', '-R', '--recursive'], ['-f', '--force'], ['-a', '--archive'], ['-l', '--link'], ['-s', '--symbolic-link'], ['-t', '--target-directory']],
  mv: [['-f', '--force'], ['-t', '--target-directory']],
  ln: [['-s', '--symbolic'], ['-f', '--force']],
  ...Object.fromEntries(['chmod', 'chown', 'chgrp'].map((p) => [p, [['-R', '--recursive']]])),
};

/**
 * Options that also turn a flag on, for deny_flags only (allow_flags do not widen): `tail -F` is
 * `--follow=name --retry`.
 */
const IMPLIED: Readonly<Record<string, Readonly<Record<string, string[]>>>> = {
  tail: { '-f': ['-F'] },
};

/** A flag and its known equivalent spellings for one program. */
export function spellings(program: string, flag: string): string[] {
  for (const group of (Object.hasOwn(ALIASES, program) ? ALIASES[program] : undefined) ?? []) {
    if (group.includes(flag)) return group;
  }
  return [flag];
}

/** Does one argument word spell `flag`? Returns false for operands. */
function wordSpellsFlag(word: string, flag: string): boolean {
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

/**
 * The options of a modelled program's words as its getopt reads them (each short option of a
 * cluster apart, up to the one that takes a value; values skipped), with the word each is in; null
 * for a program option-models.ts does not model (or whose options are whole words). Generous where
 * the model cannot tell: an abbreviated long option (`--ti`, which may be du's `--time` as well as
 * `--time-style`) leaves the next word an option word too.
 */
function modelledOptions(program: string, args: readonly string[]): { option: string; word: string }[] | null {
  const compiled = program === 'find' ? undefined : COMPILED.get(program);
  if (compiled === undefined || compiled.model.wholeWords === true) return null;
  const { value, model } = compiled;
  // Modelled options whose value is optional (only attached: `-b2`, `--boot=2`): the next word stays a word of its own.
  const optional = model.optional ?? [];
  const out: { option: string; word: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') break;
    if (w.startsWith('--')) {
      out.push({ option: w, word: w });
      if (w.includes('=') || optional.includes(w)) continue;
      if (model.pairs?.includes(w) === true) i += 2;
      else if (value.has(w)) i++;
      continue;
    }
    if (!w.startsWith('-') || w.length < 2) continue;
    for (let k = 1; k < w.length; k++) {
      const ch = w[k] as string;
      if (!/[A-Za-z0-9]/.test(ch)) break;
      out.push({ option: `-${ch}`, word: w });
      if (!value.has(`-${ch}`)) continue;
      if (k === w.length - 1 && !optional.includes(`-${ch}`)) i++;
      break;
    }
  }
  return out;
}

/** grep's short options that take a value (the rest of the word or the next word). */
const GREP_VALUE_SHORTS = 'ABCDdefm';

/**
 * The word of a grep command that sets `--directories=recurse` (`-d recurse`, `-drec`,
 * `-id recurse`, `--dir=rec`: GNU argmatch takes any unambiguous prefix of the action), which
 * is `-r`. Generous: a prefix as short as `r` (ambiguous, so an error for grep) also counts.
 */
function grepRecurseWord(words: string[]): string | null {
  const recurse = (v: string | undefined): boolean => v !== undefined && v.length > 0 && 'recurse'.startsWith(v);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (name.length > 0 && 'directories'.startsWith(name) && recurse(eq < 0 ? words[i + 1] : w.slice(eq + 1))) return w;
      continue;
    }
    if (!w.startsWith('-') || w.length < 2) continue;
    for (let k = 1; k < w.length; k++) {
      const ch = w[k] as string;
      if (!GREP_VALUE_SHORTS.includes(ch)) continue;
      if (ch === 'd' && recurse(k + 1 < w.length ? w.slice(k + 1) : words[i + 1])) return w;
      break;
    }
  }
  return null;
}

/**
 * First argument that spells one of `flags` for `program`, or null. Only words that can be
 * options count (before `--`; for find, every word). For grep, `--directories=recurse` in
 * all its spellings counts as `-r`/`--recursive`.
 */
export function findFlag(program: string, args: string[], flags: readonly string[]): { flag: string; word: string } | null {
  const words = optionWordsOf(program, args);
  const read = modelledOptions(program, args);
  for (const flag of flags) {
    const names = spellings(program, flag);
    const implied = names.flatMap((n) => (Object.hasOwn(IMPLIED, program) ? IMPLIED[program]?.[n] : undefined) ?? []);
    for (const f of [...names, ...implied]) {
      const word = read === null ? words.find((w) => wordSpellsFlag(w, f)) : read.find((o) => wordSpellsFlag(o.option, f))?.word;
      if (word !== undefined) return { flag, word };
    }
    if (GREPS.includes(program) && names.includes('-r')) {
      const word = grepRecurseWord(words);
      if (word !== null) return { flag, word };
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
