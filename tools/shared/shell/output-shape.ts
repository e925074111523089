/**
 * Options of reading programs that print part of a line, or re-render its blanks, so that a
 * secret's value no longer stands beside its name where command-output masking reads it
 * (secret-text.ts masks `DB_PASSWORD=***`, `password = ***`): `grep -o '[^=]*$' .env` prints the
 * bare value, `tail -c 20` (or the old `tail +13c`, `tail -1b`) starts a window inside a line,
 * `cat -T`/`-A` show a tab as `^I`, so `password<TAB>=<TAB>x` reads as no assignment, and
 * `grep -nT` pads the line number (`FILE: 2:<TAB>password = x`), a prefix masking does not know,
 * `nl -s ''` glues it to the name, `cmp -l` prints every byte in octal, `tac -s =` prints a
 * value on its own line before its name; `git grep -o` is grep's
 * -o (dd's `skip=`, a byte window, is an operand: rewriters.ts refuses it). An allow
 * grant of such a program refuses these options unless its allow_flags list them (the author then
 * chose to show that output as it is). Why options and not programs: a grant of grep, tail or
 * cat reads files as they are, and masking is what keeps their secrets; a program whose job is
 * to rewrite text (cut, tr, rev, fold, base64, xxd, od, sed, awk, `jq -r`) needs its grant to
 * say `rewrites: true` (rewriters.ts).
 */
import { findFlag, spellings } from './flags.js';
import { modelledOptionWords } from './operands.js';
import { locateSubcommand } from './subcommand-options.js';

const GREPS = ['grep', 'egrep', 'fgrep', 'rgrep', 'zgrep', 'zegrep', 'zfgrep', 'xzgrep', 'xzegrep', 'xzfgrep', 'bzgrep', 'bzegrep', 'bzfgrep', 'lzgrep', 'zstdgrep'];
type Reshape = { flags: string[]; what: string };
const ONLY_MATCHING: Reshape = { flags: ['-o', '--only-matching'], what: 'prints only the matching part of each line' };
// `FILE: 2:<TAB>password = x`: the padded line number is no prefix masking knows.
const INITIAL_TAB: Reshape = { flags: ['-T', '--initial-tab'], what: 'pads the line number before each line with blanks' };
const TABS: Reshape = { flags: ['-T', '--show-tabs', '-A', '--show-all', '-t'], what: 'shows a tab as ^I' };
const BYTES: Reshape = { flags: ['-c', '--bytes'], what: 'prints a window of bytes that may start inside a line' };

/** Per program: the options that reshape lines, and what they do. */
const RESHAPING: Readonly<Record<string, readonly Reshape[]>> = {
  ...Object.fromEntries(GREPS.map((g) => [g, [ONLY_MATCHING, INITIAL_TAB]])),
  // ripgrep's -r/--replace rewrites each match (`-r ''` removes the name), -o as grep's.
  rg: [ONLY_MATCHING, { flags: ['-r', '--replace'], what: 'rewrites the matching part of each line' }],
  ack: [ONLY_MATCHING, { flags: ['--output'], what: 'prints an expression of each match in place of the line' }],
  cat: [TABS],
  tail: [BYTES],
  // `tac -s = .env` ends records at `=`: the value printed on its own line, before its name.
  tac: [{ flags: ['-s', '--separator'], what: 'ends records at its own separator, so a value is printed apart from its name' }],
  // `nl -s ''` glues the number to the name (`     1DB_PASSWORD=x`), a name masking does not know.
  nl: [{ flags: ['-s', '--number-separator'], what: 'puts its own text between the line number and the line' }],
  // `cmp -l .env /dev/zero` prints every byte of the file in octal.
  cmp: [{ flags: ['-l', '--verbose', '-b', '--print-bytes'], what: 'prints the bytes of the files' }],
};

/** tail's obsolete byte windows (`tail -20c`, `tail +13c`, `tail -1b`: 512-byte blocks), generously any such word. */
const OBSOLETE_TAIL_BYTES = /^[+-]\d*[bc]f?$/;

/**
 * Why this command's output may cut a secret from its name, or null. `allowed` is the grant's
 * allow_flags in every spelling: an option listed there is the grant's own choice.
 */
export function reshapedOutput(program: string, args: string[], allowed: ReadonlySet<string> | undefined): string | null {
  if (program !== 'git') return reshaped(program, args, allowed, program);
  // `git grep -o` prints only the match as grep's does: the words after the subcommand, read as grep's
  // (every word when the subcommand cannot be told: fail closed).
  const sub = locateSubcommand('git', args);
  if (sub.kind === 'none' || (sub.kind === 'word' && args[sub.at] !== 'grep')) return null;
  return reshaped('grep', sub.kind === 'word' ? args.slice(sub.at + 1) : args, allowed, 'git grep');
}

function reshaped(program: string, args: string[], allowed: ReadonlySet<string> | undefined, shown: string): string | null {
  const table = Object.hasOwn(RESHAPING, program) ? RESHAPING[program] : undefined;
  if (table === undefined) return null;
  const listed = (flag: string) => allowed !== undefined && spellings(program, flag).some((s) => allowed.has(s));
  // The words before the `--` that ends the options, read as allow_flags reads them (`grep -i -- -foo` names no -o).
  const words = modelledOptionWords(program, args);
  for (const r of table) {
    let hit = findFlag(program, words, r.flags.filter((f) => !listed(f)));
    if (hit === null && r === BYTES && !listed('-c')) {
      const word = words.find((w) => OBSOLETE_TAIL_BYTES.test(w));
      if (word !== undefined) hit = { flag: '-c', word };
    }
    if (hit === null) continue;
    return (
      `${shown} ${hit.flag} (spelled '${hit.word}') ${r.what}, so a secret's value can be shown without the name beside it that ` +
      `output masking reads (DB_PASSWORD=***); list ${hit.flag} in this grant's allow_flags to allow it.`
    );
  }
  return null;
}
