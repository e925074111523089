/**
 * Which words of a command name files. A program with `paths:` may only touch files under
 * its prefixes, so the condition must know which words are files, patterns or option values.
 * Modelled programs: their operands are files (absolute and under a prefix), except the
 * pattern/script operand of grep/awk/sed and find's expression; option values are exempt
 * unless the option names a file. Unmodelled programs: every path-like word is checked.
 */
import { findFlag } from './flags.js';
import { isPathLike } from './paths.js';
import { AWKS } from './runners.js';
import { tarWords } from './tar-files.js';

interface Model {
  /** Options that consume a value (`-n 5`, `-n5`, `--lines 5`, `--lines=5`). */
  value: string[];
  /** Of those, the ones whose value is a file. */
  file?: string[];
  /** Of the file options, the ones whose file is written (`sort -o`). */
  writes?: string[];
  /** The operands, in order, that are written (`uniq IN OUT`: index 1). */
  writeOperands?: number[];
  /** The first operand is a pattern or program text unless one of these flags is present. */
  leadingText?: string[];
  /** With no operands the program works on the current directory (relative: refused). */
  cwd?: (args: string[]) => boolean;
  /** Operands that are not files: `none` (date's +FORMAT), `pathLike` (journalctl matches: checked when path-like). */
  operands?: 'none' | 'pathLike';
}

const GREP: Model = {
  value: ['-e', '-f', '-m', '-A', '-B', '-C', '-d', '-D', '--regexp', '--file', '--max-count', '--after-context', '--before-context',
    '--context', '--directories', '--devices', '--include', '--exclude', '--exclude-dir', '--exclude-from', '--label', '--binary-files', '--group-separator'],
  file: ['-f', '--file', '--exclude-from'],
  leadingText: ['-e', '--regexp', '-f', '--file'],
  cwd: (args) => findFlag('grep', args, ['-r', '-R', '-d']) !== null,
};
const NONE: Model = { value: [] };
const HEAD: Model = { value: ['-n', '-c', '--lines', '--bytes'] };

const MODELS: Record<string, Model> = {
  cat: NONE, tac: { value: ['-s', '--separator'] }, zcat: NONE, md5sum: NONE, sha1sum: NONE, sha256sum: NONE, sha512sum: NONE,
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
    value: ['-d', '-B', '-t', '-X', '--max-depth', '--block-size', '--threshold', '--exclude', '--exclude-from', '--time-style'],
    file: ['-X', '--exclude-from'],
    cwd: () => true,
  },
  stat: { value: ['-c', '--format', '--printf'] },
  file: { value: ['-m', '-F', '-e', '--magic-file', '--separator', '--exclude'], file: ['-m', '--magic-file'] },
  sort: {
    value: ['-k', '-t', '-o', '-T', '-S', '--key', '--field-separator', '--output', '--temporary-directory', '--buffer-size',
      '--parallel', '--batch-size', '--random-source'],
    file: ['-o', '--output', '-T', '--temporary-directory', '--random-source'],
    writes: ['-o', '--output'],
  },
  uniq: { value: ['-f', '-s', '-w', '--skip-fields', '--skip-chars', '--check-chars'], writeOperands: [1] },
  cut: { value: ['-b', '-c', '-d', '-f', '--bytes', '--characters', '--delimiter', '--fields', '--output-delimiter'] },
  strings: { value: ['-n', '-t', '-e', '--bytes', '--radix', '--encoding'] },
  // -e/--source give program text (script-checks.ts judges it); then every operand is a file.
  // date: -f reads dates from a file, -r gives a file's time; operands are +FORMAT or the time to set (state-options.ts).
  date: {
    value: ['-d', '-f', '-r', '-s', '-I', '--date', '--file', '--reference', '--set', '--rfc-3339', '--resolution'],
    file: ['-f', '--file', '-r', '--reference'],
    operands: 'none',
  },
  diff: {
    value: ['-C', '-U', '-F', '-I', '-x', '-X', '-S', '-W', '--label', '--show-function-line', '--ignore-matching-lines', '--exclude',
      '--exclude-from', '--starting-file', '--width', '--tabsize', '--from-file', '--to-file', '--line-format', '--old-line-format',
      '--new-line-format', '--unchanged-line-format', '--old-group-format', '--new-group-format', '--changed-group-format',
      '--unchanged-group-format', '--horizon-lines', '--palette'],
    file: ['-X', '--exclude-from', '--from-file', '--to-file'],
  },
  // journalctl: --file/-D/--root/--image read journals there, --cursor-file writes; operands are field matches.
  journalctl: {
    value: ['-u', '-t', '-T', '-p', '-n', '-o', '-S', '-U', '-b', '-g', '-M', '-D', '-H', '-F', '-I', '--unit', '--user-unit',
      '--identifier', '--exclude-identifier', '--priority', '--facility', '--lines', '--output', '--output-fields', '--since', '--until',
      '--boot', '--grep', '--machine', '--host', '--directory', '--file', '--root', '--image', '--image-policy', '--cursor',
      '--after-cursor', '--cursor-file', '--namespace', '--field', '--vacuum-size', '--vacuum-time', '--vacuum-files', '--interval',
      '--verify-key', '--invocation'],
    file: ['-D', '--directory', '--file', '--root', '--image', '--cursor-file'],
    writes: ['--cursor-file'],
    operands: 'pathLike',
  },
  awk: { value: ['-F', '-v', '-e', '--field-separator', '--assign', '--source'], leadingText: ['-e', '--source'] },
  sed: { value: ['-e', '-l', '--expression', '--line-length'], leadingText: ['-e', '--expression'] },
};
for (const a of AWKS) if (a !== 'awk') MODELS[a] = MODELS.awk as Model;

/** A model's option lists as Sets, built once. */
interface CompiledModel {
  model: Model;
  value: ReadonlySet<string>;
  file: ReadonlySet<string>;
}
const COMPILED: ReadonlyMap<string, CompiledModel> = new Map(
  Object.entries(MODELS).map(([name, model]) => [name, { model, value: new Set(model.value), file: new Set(model.file ?? []) }]),
);

/**
 * Words to check: `files` must be absolute and under a prefix; `pathLike` only if path-like.
 * `writes`: those of them the program may write (an unmodelled program's path-like words, generously);
 * `unjudged`: why it writes files whose names the line does not give (tar extracting an archive).
 */
export interface FileWords {
  files: string[];
  pathLike: string[];
  writes: string[];
  unjudged?: string;
}

/** Programs whose path words are not writes of their own: git's writes are judged by the keys it sets (git-config.ts). */
const NOT_WRITERS = new Set(['git']);

const FIND_TEXT = new Set(['-name', '-iname', '-path', '-ipath', '-wholename', '-iwholename', '-regex', '-iregex', '-lname', '-ilname']);

function findWords(args: string[]): FileWords {
  let i = 0;
  while (i < args.length && /^-(H|L|P|D|O\d*)$/.test(args[i] as string)) i += args[i] === '-D' ? 2 : 1;
  // `--` ends find's leading options only; the expression after the paths still acts.
  if (args[i] === '--') i++;
  const files: string[] = [];
  while (i < args.length && !/^(-.+|[()!,])$/.test(args[i] as string)) files.push(args[i++] as string);
  if (files.length === 0) files.push('.');
  const pathLike: string[] = [];
  for (; i < args.length; i++) {
    const w = args[i] as string;
    if (FIND_TEXT.has(w)) i++;
    else pathLike.push(w);
  }
  // find's writing actions (-fprint, -delete, ...) are the injection catalogue's.
  return { files, pathLike, writes: [] };
}

/** Split a command's words into file operands and other path-like words. */
export function fileWords(program: string, args: string[]): FileWords {
  if (program === 'find') return findWords(args);
  if (program === 'tar') return tarWords(args);
  const compiled = COMPILED.get(program);
  if (compiled === undefined) {
    const pathLike = args.flatMap(optionValueOrWord);
    return { files: [], pathLike, writes: NOT_WRITERS.has(program) ? [] : relevantPathLike(pathLike) };
  }
  const { model, value, file } = compiled;
  const out: FileWords = { files: [], pathLike: [], writes: [] };
  // GNU getopt_long takes an unambiguous prefix (`--out=x` is `--output=x`); any prefix counts here.
  const writes = (flag: string): boolean => (model.writes ?? []).some((f) => f === flag || (flag.length >= 3 && f.startsWith(flag)));
  const fileOf = (flag: string, v: string): void => {
    out.files.push(v);
    if (writes(flag)) out.writes.push(v);
  };
  const take = (flag: string, v: string | undefined): void => {
    if (v === undefined) return;
    if (file.has(flag)) fileOf(flag, v);
  };
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (eq >= 0) {
        if (file.has(name) || (name.length >= 3 && [...file].some((f) => f.startsWith(name)))) fileOf(name, w.slice(eq + 1));
        else if (!value.has(name)) out.pathLike.push(w.slice(eq + 1));
      } else if (value.has(name)) take(name, args[++i]);
      else if (name.length >= 3 && [...file].some((f) => f.startsWith(name))) {
        // An abbreviation (`--fi X`) of an option whose value is a file: X is that file; it stays an operand too, generously.
        if (args[i + 1] !== undefined) fileOf(name, args[i + 1] as string);
      }
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let k = 1; k < w.length; k++) {
        const flag = `-${w[k] as string}`;
        if (value.has(flag)) {
          take(flag, k + 1 < w.length ? w.slice(k + 1) : args[++i]);
          break;
        }
        if (!/[A-Za-z0-9]/.test(w[k] as string)) {
          out.pathLike.push(w.slice(k));
          break;
        }
      }
      continue;
    }
    operands.push(w);
  }
  if (model.leadingText !== undefined && findFlag(program, args, model.leadingText) === null) operands.shift();
  if (operands.length === 0 && model.cwd?.(args) === true) operands.push('.');
  for (const at of model.writeOperands ?? []) if (operands[at] !== undefined && operands[at] !== '-') out.writes.push(operands[at] as string);
  if (model.operands === 'pathLike') out.pathLike.push(...operands);
  else if (model.operands !== 'none') out.files.push(...operands.filter((o) => o !== '-'));
  return out;
}

/**
 * Programs people grant for reading whose option or operand writes a file (`sort -o`, `uniq IN
 * OUT`, `journalctl --cursor-file`). Why apart from writers such as `tee` or `cp`: a grant of
 * sort reads as read-only, yet `echo CMD | sort -o /home/app/.bashrc` plants a command the login
 * shell runs on the next call. Without `paths:` to bound it, the write is not in the grant.
 */
const READERS_THAT_WRITE: ReadonlySet<string> = new Set(['sort', 'uniq', 'journalctl']);

/** The first file a reading program writes (READERS_THAT_WRITE), or undefined; at once for any other program. */
export function readerWrite(program: string, args: string[]): string | undefined {
  if (!READERS_THAT_WRITE.has(program)) return undefined;
  return fileWords(program, args).writes[0];
}

/** For an unmodelled program: the word itself, or the value part of an option word. */
function optionValueOrWord(w: string): string[] {
  if (!w.startsWith('-')) return [w];
  const eq = w.indexOf('=');
  if (eq >= 0) return [w.slice(eq + 1)];
  if (!w.startsWith('--')) {
    const at = w.search(/[^A-Za-z0-9-]/);
    if (at > 0) return [w.slice(at)];
  }
  return [];
}

/** The words that look like paths (and so must lie under a prefix). */
export function relevantPathLike(words: string[]): string[] {
  return words.filter(isPathLike);
}
