/**
 * How the programs operands.ts models read their words: which options take a value, which
 * values and operands are files, which of those they write (operands.ts judges them for
 * `paths:` and READERS_THAT_WRITE), and for the inspection tools state-options.ts judges
 * (dmesg, sysctl, mount, ...) which options take a value, so that a value is never read as an
 * option (`dmesg -fkern` is `-f kern`) or an operand (`sysctl -r 'a=b'`). The writers by nature
 * (touch, chmod, cp, ...) and more plain readers (jq, base64, ...) are in writer-models.ts.
 */
import { findFlag } from './flags.js';
import { AWKS } from './runners.js';
import { READER_MODELS, WRITER_MODELS } from './writer-models.js';

/** How one program reads its words. */
export interface Model {
  /** Options that consume a value (`-n 5`, `-n5`, `--lines 5`, `--lines=5`). */
  value: string[];
  /**
   * Of those, the ones whose value is optional: taken only attached (`-b-1`, `--boot=-1`, `-Idate`),
   * so the next word is read as a word of its own (`journalctl -n --vacuum-size=1` vacuums). Where
   * the program also takes a next word that reads as its value (journalctl's boot or count), that
   * word is judged as an operand too: generous.
   */
  optional?: readonly string[];
  /** Of those, the ones whose value is a file. */
  file?: string[];
  /** Of the file options, the ones whose file is written (`sort -o`). */
  writes?: string[];
  /** The operands that are written: by index (`uniq IN OUT`: 1), `all` (touch, rm, chmod) or the `last` (cp, ln). */
  writeOperands?: number[] | 'all' | 'last';
  /** The first operand is a pattern or program text unless one of these flags is present. */
  leadingText?: string[];
  /** With no operands the program works on the current directory (relative: refused). */
  cwd?: (args: string[]) => boolean;
  /** With one operand it writes into the current directory too (`ln TARGET`, `split FILE`); `options` as scanWords read them. */
  cwdWithOne?: (args: string[], options: readonly { flag: string }[]) => boolean;
  /** Long options without a value that are whole prefixes of one with (du's `--time` of `--time-style`): an exact name is itself. */
  exactFlags?: readonly string[];
  /** An option word matching this is the leading text itself (chmod's mode `-w`): then no operand is. */
  textOption?: RegExp;
  /** Options of `value` that take two words, NAME and the value (jq's `--arg NAME V`, `--rawfile NAME FILE`). */
  pairs?: string[];
  /** After one of these, operands are strings, not files (jq's `--args`); a leading text may still follow. */
  textAfter?: string[];
  /** Operands that are not files: `none` (date's +FORMAT), `pathLike` (journalctl matches: checked when path-like). */
  operands?: 'none' | 'pathLike';
  /** Options that make it write: a file named by no word (`file -C` writes NAME.mgc in the current folder) or its operands (`yq -i`). */
  writesWith?: readonly { flags: readonly string[]; writes: 'operands' | string }[];
  /** Options that make it read the files a list names (`sha256sum -c LIST`, standard input without one): refused under paths:. */
  lists?: readonly string[];
  /** Options are whole words, never clusters (xxd's `-ps`, `-cols 8`). */
  wholeWords?: boolean;
  /**
   * Options that make it read files no word names (journalctl's `-M` container, `--namespace`,
   * `-m` every journal): under paths: they cannot be held to the prefixes, so they are refused.
   */
  elsewhere?: { flags: readonly string[]; why: string };
}

const GREP: Model = {
  exactFlags: ['--binary'],
  value: ['-e', '-f', '-m', '-A', '-B', '-C', '-d', '-D', '--regexp', '--file', '--max-count', '--after-context', '--before-context',
    '--context', '--directories', '--devices', '--include', '--exclude', '--exclude-dir', '--exclude-from', '--label', '--binary-files', '--group-separator'],
  file: ['-f', '--file', '--exclude-from'],
  leadingText: ['-e', '--regexp', '-f', '--file'],
  cwd: (args) => findFlag('grep', args, ['-r', '-R', '-d']) !== null,
};
const NONE: Model = { value: [] };
const HEAD: Model = { value: ['-n', '-c', '--lines', '--bytes'] };
/** md5sum, sha*sum: `-c` checks the files a list names. */
const CHECKSUMS: Model = { value: [], lists: ['-c', '--check'] };

const MODELS: Record<string, Model> = {
  cat: NONE, tac: { value: ['-s', '--separator'] }, zcat: NONE, md5sum: CHECKSUMS, sha1sum: CHECKSUMS, sha256sum: CHECKSUMS, sha512sum: CHECKSUMS,
  wc: NONE, readlink: NONE, realpath: NONE,
  head: HEAD,
  tail: { value: ['-n', '-c', '-s', '--lines', '--bytes', '--sleep-interval', '--pid', '--max-unchanged-stats'] },
  ls: {
    value: ['-I', '-w', '-T', '--ignore', '--hide', '--width', '--tabsize', '--format', '--sort', '--time', '--time-style',
      '--quoting-style', '--indicator-style', '--block-size'],
    cwd: () => true,
  },
  grep: GREP, egrep: GREP, fgrep: GREP, zgrep: GREP,
  du: {
    exactFlags: ['--time'],
    value: ['-d', '-B', '-t', '-X', '--max-depth', '--block-size', '--threshold', '--exclude', '--exclude-from', '--time-style'],
    file: ['-X', '--exclude-from'],
    cwd: () => true,
  },
  stat: { value: ['-c', '--format', '--printf'] },
  // file -C compiles the magic file (-m, or the default one) into NAME.mgc in the current folder (checked on file 5.44).
  file: {
    value: ['-m', '-F', '-e', '-P', '--magic-file', '--separator', '--exclude', '--parameter'],
    file: ['-m', '--magic-file'],
    writesWith: [{ flags: ['-C', '--compile'], writes: 'the current folder (a compiled .mgc file)' }],
  },
  // xxd IN OUT writes OUT (also with -r, which patches OUT); its options are whole words (xxd 2022-01-14 and later's -R).
  xxd: { value: ['-c', '-g', '-l', '-n', '-o', '-s', '-R', '-cols', '-groupsize', '-len', '-name', '-offset', '-seek'], wholeWords: true, writeOperands: [1] },
  // yq (kislyuk's and mikefarah's): -i/--in-place/--inplace rewrites its files; the first operand is the jq filter unless -f
  // gives it. jq's --arg/--rawfile NAME X take two words: X is read as an operand, so it is a file (generously).
  yq: {
    exactFlags: ['--yaml-output'],
    value: ['-w', '-f', '-L', '--width', '--indent', '--yaml-output-grammar-version', '--yml-out-ver', '--from-file', '--arg', '--argjson',
      '--rawfile', '--slurpfile', '--argfile', '--output-format', '--input-format', '--expression', '-o', '-p', '-I'],
    file: ['-f', '--from-file'],
    leadingText: ['-f', '--from-file'],
    writesWith: [{ flags: ['-i', '--in-place', '--inplace'], writes: 'operands' }],
  },
  // sort -T DIR writes its temporary files in DIR (--compress-program is the injection catalogue's).
  sort: {
    value: ['-k', '-t', '-o', '-T', '-S', '--key', '--field-separator', '--output', '--temporary-directory', '--buffer-size',
      '--parallel', '--batch-size', '--random-source'],
    file: ['-o', '--output', '-T', '--temporary-directory', '--random-source'],
    writes: ['-o', '--output', '-T', '--temporary-directory'],
  },
  uniq: { value: ['-f', '-s', '-w', '--skip-fields', '--skip-chars', '--check-chars'], writeOperands: [1] },
  cut: { value: ['-b', '-c', '-d', '-f', '--bytes', '--characters', '--delimiter', '--fields', '--output-delimiter'] },
  strings: { value: ['-n', '-t', '-e', '--bytes', '--radix', '--encoding'] },
  // -e/--source give program text (script-checks.ts judges it); then every operand is a file.
  // date: -f reads dates from a file, -r gives a file's time; operands are +FORMAT or the time to set (state-options.ts).
  date: {
    value: ['-d', '-f', '-r', '-s', '-I', '--date', '--file', '--reference', '--set', '--rfc-3339'],
    file: ['-f', '--file', '-r', '--reference'],
    operands: 'none',
    optional: ['-I'],
  },
  diff: {
    value: ['-C', '-U', '-F', '-I', '-x', '-X', '-S', '-W', '--label', '--show-function-line', '--ignore-matching-lines', '--exclude',
      '--exclude-from', '--starting-file', '--width', '--tabsize', '--from-file', '--to-file', '--line-format', '--old-line-format',
      '--new-line-format', '--unchanged-line-format', '--old-group-format', '--new-group-format', '--changed-group-format',
      '--unchanged-group-format', '--horizon-lines', '--palette'],
    file: ['-X', '--exclude-from', '--from-file', '--to-file'],
  },
  // journalctl: --file/-D/--root/--image read journals there, --cursor-file writes; operands are field matches (systemd 252
  // getopt "hefo:aln::qmb::kD:p:g:c:S:U:t:u:NF:xrM:"; -T, -H, -I are later versions').
  journalctl: {
    exactFlags: ['--user', '--verify'],
    value: ['-u', '-t', '-T', '-p', '-n', '-o', '-S', '-U', '-b', '-g', '-c', '-M', '-D', '-H', '-F', '-I', '--unit', '--user-unit',
      '--identifier', '--exclude-identifier', '--priority', '--facility', '--lines', '--output', '--output-fields', '--since', '--until',
      '--boot', '--grep', '--machine', '--host', '--directory', '--file', '--root', '--image', '--image-policy', '--cursor',
      '--after-cursor', '--cursor-file', '--namespace', '--field', '--vacuum-size', '--vacuum-time', '--vacuum-files', '--interval',
      '--verify-key', '--invocation'],
    file: ['-D', '--directory', '--file', '--root', '--image', '--cursor-file'],
    writes: ['--cursor-file'],
    operands: 'pathLike',
    optional: ['-b', '--boot', '-n', '--lines'],
    // -M reads a container's journal, --namespace another namespace's (`*`: all), -m every journal (other machines', remote ones).
    elsewhere: { flags: ['-M', '--machine', '--namespace', '-m', '--merge'], why: 'reads journals (of a container, a namespace, or every one merged) in folders no word names' },
  },
  awk: { value: ['-F', '-v', '-e', '--field-separator', '--assign', '--source'], leadingText: ['-e', '--source'] },
  sed: { value: ['-e', '-l', '--expression', '--line-length'], leadingText: ['-e', '--expression'] },
  // Inspection tools whose changing options state-options.ts finds (util-linux 2.38 and procps-ng 4.0 `--help` on this machine).
  dmesg: {
    value: ['-F', '-f', '-l', '-n', '-s', '--file', '--facility', '--level', '--console-level', '--buffer-size', '--time-format', '--since', '--until'],
    file: ['-F', '--file'],
    operands: 'pathLike',
  },
  sysctl: { value: ['-r', '--pattern'], operands: 'pathLike' },
  hwclock: {
    value: ['-f', '--rtc', '--adjfile', '--date', '--delay', '--param-get', '--param-set', '--epoch'],
    file: ['-f', '--rtc', '--adjfile'],
    operands: 'pathLike',
  },
  mount: {
    value: ['-t', '-o', '-O', '-T', '-L', '-U', '-N', '--types', '--options', '--test-opts', '--fstab', '--label', '--uuid', '--namespace',
      '--options-mode', '--options-source', '--target-prefix', '--source', '--target'],
    file: ['-T', '--fstab'],
    operands: 'pathLike',
  },
  umount: { value: ['-t', '-O', '-N', '--types', '--test-opts', '--namespace'], operands: 'pathLike' },
};
for (const a of AWKS) if (a !== 'awk') MODELS[a] = MODELS.awk as Model;
Object.assign(MODELS, WRITER_MODELS, READER_MODELS);

/** A model's option lists as Sets, built once. */
export interface CompiledModel {
  model: Model;
  value: ReadonlySet<string>;
  file: ReadonlySet<string>;
}
export const COMPILED: ReadonlyMap<string, CompiledModel> = new Map(
  Object.entries(MODELS).map(([name, model]) => [name, { model, value: new Set(model.value), file: new Set(model.file ?? []) }]),
);

/**
 * The long option a word's name (`--suf`, no `=value`) stands for, as GNU getopt_long reads it:
 * an exact name is itself; otherwise a prefix of the model's long options that take a value is
 * the one it names (`--suf` is `--suffix`), and takes the next word as its value. A prefix of
 * several such options takes the next word too (getopt takes the option, or, ambiguous, runs
 * nothing), named as written. A prefix of none takes no value: every option with one is listed.
 */
export function longOption(compiled: CompiledModel, name: string): { flag: string; takes: boolean } {
  const { value, model } = compiled;
  if (value.has(name)) return { flag: name, takes: true };
  if (name.length < 3 || model.exactFlags?.includes(name) === true) return { flag: name, takes: false };
  const hits = model.value.filter((v) => v.startsWith('--') && v.startsWith(name));
  if (hits.length === 0) return { flag: name, takes: false };
  return { flag: hits.length === 1 ? (hits[0] as string) : name, takes: true };
}
