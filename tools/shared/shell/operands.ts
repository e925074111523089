/**
 * Which words of a command name files. A program with `paths:` may only touch files under
 * its prefixes, so the condition must know which words are files, patterns or option values.
 * Modelled programs: their operands are files (absolute and under a prefix), except the
 * pattern/script operand of grep/awk/sed and find's expression; option values are exempt
 * unless the option names a file. Unmodelled programs: every path-like word is checked, so a
 * bare relative name (`authorized_keys`) passes there: that is why the writers by nature and the
 * plain readers are modelled too (writer-models.ts; dd and unzip in writer-words.ts; rsync and
 * scp in copy-models.ts; zip, 7z and cpio in archive-models.ts; patch and csplit in patch-models.ts).
 */
import { findFlag, optionsEnd, optionWords, optionWordsOf } from './flags.js';
import { COMPILED, longOption, type Model } from './option-models.js';
import { isPathLike } from './paths.js';
import { tarWords } from './tar-files.js';
import { ddWords, unzipWords } from './writer-words.js';
import { cpioWords, sevenZipWords, zipWords } from './archive-models.js';
import { rsyncWords, scpWords } from './copy-models.js';
import { csplitWords, patchWords } from './patch-models.js';

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
  /** Files it reads or writes by names a list gives (`tar -c -T LIST`, `zip -@`, `sha256sum -c`): the list ('-': standard input) and why. */
  listed?: { list: string; why: string };
  /** An option that makes it read files no word names (journalctl's `-m`: option-models.ts `elsewhere`): the word and why. */
  elsewhere?: { word: string; why: string };
  /** The folders an extraction writes names only the archive knows into (`tar -x -C DIR`, `unzip -d DIR`; `/` where names may be absolute): device-landings.ts. */
  extractsInto?: string[];
}

/** Programs whose words a closed reading of their own judges (an option it does not know is refused). */
const CLOSED_MODELS: Readonly<Record<string, (args: string[]) => FileWords>> = {
  rsync: rsyncWords, scp: scpWords, zip: zipWords, '7z': sevenZipWords, '7za': sevenZipWords, '7zr': sevenZipWords, '7zz': sevenZipWords,
  cpio: cpioWords, patch: patchWords, csplit: csplitWords,
};

/** Programs whose path words are not writes of their own: git's writes are judged by the keys it sets (git-config.ts). */
const NOT_WRITERS = new Set(['git']);

const FIND_TEXT = new Set(['-name', '-iname', '-path', '-ipath', '-wholename', '-iwholename', '-regex', '-iregex', '-lname', '-ilname']);
/** Tests whose value is a file find stats (`-newer F`): a file of the grant, so a bare name (the login folder's) is refused. `-newerXt` takes a time. */
const FIND_REFERENCE = /^-(newer|anewer|cnewer|samefile|newer[aBcm][aBcm])$/;

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
    else if (FIND_REFERENCE.test(w) && i + 1 < args.length) files.push(args[++i] as string);
    else pathLike.push(w);
  }
  // find's writing actions (-fprint, -delete, ...) are the injection catalogue's.
  return { files, pathLike, writes: [] };
}

/** One option a modelled command uses: its flag (`-n`, `--lines`; an abbreviation as the option it stands for) and the value it takes. */
export interface UsedOption {
  flag: string;
  value?: string;
}

/** A modelled command's words: options (with the values they take), operands, and stray values that may be paths. */
export interface ScannedWords {
  options: UsedOption[];
  operands: string[];
  stray: string[];
  /** How many operands came before a `textAfter` option (jq's `--args`): the later ones are strings. */
  textFrom?: number;
}

/**
 * A modelled program's words read as its getopt reads them: a short option that takes a value
 * ends its cluster (`dmesg -fkern` is `-f kern`, no `-n` in it), `--x=v` and `--x v` give v to
 * x. Undefined for an unmodelled program.
 */
export function scanWords(program: string, args: string[]): ScannedWords | undefined {
  const compiled = COMPILED.get(program);
  if (compiled === undefined) return undefined;
  const { model, value } = compiled;
  const out: ScannedWords = { options: [], operands: [], stray: [] };
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const written = eq < 0 ? w : w.slice(0, eq);
      if (model.textAfter?.includes(written) === true) out.textFrom ??= out.operands.length;
      // An abbreviation is the option it stands for (`--suf -t` is `--suffix=-t`: no -t), as getopt_long reads it.
      const long = longOption(compiled, written);
      if (eq >= 0) out.options.push({ flag: long.flag, value: w.slice(eq + 1) });
      else if (!long.takes || model.optional?.includes(long.flag) === true) out.options.push({ flag: long.flag });
      else if (model.pairs?.includes(long.flag) === true) {
        out.options.push({ flag: long.flag, value: args[i + 2] }); // NAME, then the value
        i += 2;
      } else out.options.push({ flag: long.flag, value: args[++i] });
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      // Programs whose options are whole words (xxd's `-ps`, `-cols 8`): a listed one takes the next word.
      if (model.wholeWords === true) {
        out.options.push(value.has(w) ? { flag: w, value: args[++i] } : { flag: w });
        continue;
      }
      for (let k = 1; k < w.length; k++) {
        const flag = `-${w[k] as string}`;
        if (value.has(flag)) {
          // An optional value is only ever attached (`-b-1`); a bare `-b` leaves the next word alone.
          if (k + 1 < w.length) out.options.push({ flag, value: w.slice(k + 1) });
          else out.options.push(model.optional?.includes(flag) === true ? { flag } : { flag, value: args[++i] });
          break;
        }
        if (!/[A-Za-z0-9]/.test(w[k] as string)) {
          out.stray.push(w.slice(k));
          break;
        }
        out.options.push({ flag });
      }
      continue;
    }
    out.operands.push(w);
  }
  return out;
}

/** Does a model of its own read `program`'s words (not the generous reading of any other program's)? */
export function modelled(program: string): boolean {
  return ['find', 'tar', 'dd', 'unzip'].includes(program) || Object.hasOwn(CLOSED_MODELS, program) || COMPILED.has(program);
}

/** Split a command's words into file operands and other path-like words. */
export function fileWords(program: string, args: string[]): FileWords {
  if (program === 'find') return findWords(args);
  if (program === 'tar') return tarWords(args);
  if (program === 'dd') return ddWords(args);
  if (program === 'unzip') return unzipWords(args);
  const closed = Object.hasOwn(CLOSED_MODELS, program) ? CLOSED_MODELS[program] : undefined;
  if (closed !== undefined) return closed(args);
  const scanned = scanWords(program, args);
  const compiled = COMPILED.get(program);
  if (scanned === undefined || compiled === undefined) {
    const pathLike = args.flatMap(optionValueOrWord);
    return { files: [], pathLike, writes: NOT_WRITERS.has(program) ? [] : relevantPathLike(pathLike) };
  }
  const { model, value, file } = compiled;
  const out: FileWords = { files: [], pathLike: [...scanned.stray], writes: [] };
  // GNU getopt_long takes an unambiguous prefix (`--out=x` is `--output=x`); any prefix counts here.
  const prefixOf = (flag: string, list: readonly string[]): boolean => list.some((f) => f === flag || (flag.length >= 3 && f.startsWith(flag)));
  for (const o of scanned.options) {
    if (o.value === undefined) continue;
    // An exact name is that option (jq's --arg is not an abbreviation of --argfile).
    const isFile = file.has(o.flag) || (o.flag.startsWith('--') && !value.has(o.flag) && prefixOf(o.flag, [...file]));
    if (isFile) {
      out.files.push(o.value);
      if (prefixOf(o.flag, model.writes ?? [])) out.writes.push(o.value);
    } else if (!value.has(o.flag)) out.pathLike.push(o.value);
  }
  // Its options up to the `--` its model ends them at: `grep -i -- -foo F` gives no -f (modelledOptionWords).
  const optionPart = modelledOptionWords(program, args);
  const leading = model.leadingText !== undefined && findFlag(program, optionPart, model.leadingText) === null &&
    (model.textOption === undefined || !optionPart.some((w) => model.textOption?.test(w) === true));
  // After jq's --args the operands are strings (the filter may still come first).
  const operands = scanned.operands.slice(0, scanned.textFrom === undefined ? undefined : Math.max(scanned.textFrom, leading ? 1 : 0));
  if (leading) operands.shift();
  if (operands.length === 0 && model.cwd?.(args) === true) operands.push('.');
  else if (operands.length === 1 && model.cwdWithOne?.(args, scanned.options) === true) operands.push('.');
  out.writes.push(...writtenOperands(operands, model.writeOperands));
  for (const w of model.writesWith ?? []) {
    if (findFlag(program, args, w.flags) === null) continue;
    const written = w.writes === 'operands' ? operands.filter((o) => o !== '-') : [w.writes];
    out.writes.push(...written);
    // A write no word names is in a folder no prefix holds: with paths: it is refused as relative.
    if (w.writes !== 'operands') out.files.push(w.writes);
  }
  if (model.operands === 'pathLike') out.pathLike.push(...operands);
  else if (model.operands !== 'none') out.files.push(...operands.filter((o) => o !== '-'));
  const elsewhere = model.elsewhere === undefined ? null : findFlag(program, args, model.elsewhere.flags);
  if (elsewhere !== null) {
    out.elsewhere = { word: elsewhere.word, why: `${program} ${elsewhere.word} ${model.elsewhere?.why ?? ''}` };
    out.unjudged = `${out.elsewhere.why}, which may lie outside the prefixes`;
  }
  const list = model.lists === undefined ? null : findFlag(program, args, model.lists);
  if (list !== null) {
    out.listed = { list: operands[0] ?? '-', why: `${program} ${list.word} reads the files whose names its list gives, which the line does not name` };
    out.unjudged = `${out.listed.why} (one may lie outside the prefixes)`;
  }
  return out;
}

/** The operands a model says are written (`-` is standard output). */
function writtenOperands(operands: string[], which: Model['writeOperands']): string[] {
  const picked = which === 'all' ? operands : which === 'last' ? operands.slice(-1) : (which ?? []).map((at) => operands[at]);
  return picked.filter((o): o is string => o !== undefined && o !== '-');
}

/**
 * Programs people grant for reading whose option or operand writes a file (`sort -o`/`-T DIR`,
 * `uniq IN OUT`, `journalctl --cursor-file`, `xxd IN OUT`, `file -C`, `yq -i`). Why apart from
 * writers such as `tee` or `cp`: a grant of
 * sort reads as read-only, yet `echo CMD | sort -o /home/app/.bashrc` plants a command the login
 * shell runs on the next call. Without `paths:` to bound it, the write is not in the grant.
 */
const READERS_THAT_WRITE: ReadonlySet<string> = new Set(['sort', 'uniq', 'journalctl', 'xxd', 'file', 'yq']);

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

/**
 * The words of `program` that can be options (flags.ts optionWordsOf), read with its model where
 * it has one: a `--` ends them unless an option of the model that takes a value (or a prefix of
 * one, `--exclude-f`) stands right before it. Why: allow_flags judges these words, and `grep -i
 * -- -foo` names no flag `-f`, while `grep -e -- -r` does recurse. Unmodelled programs: generously.
 */
export function modelledOptionWords(program: string, args: string[]): string[] {
  const compiled = COMPILED.get(program);
  if (compiled === undefined || program === 'find' || compiled.model.wholeWords === true) return optionWordsOf(program, args);
  const values = compiled.value;
  const takes = (w: string): boolean => {
    if (w.startsWith('--')) return !w.includes('=') && w.length > 2 && [...values].some((v) => v.startsWith(w));
    if (!w.startsWith('-')) return false;
    for (let k = 1; k < w.length; k++) {
      if (values.has(`-${w[k] as string}`)) return k === w.length - 1;
      if (!/[A-Za-z0-9]/.test(w[k] as string)) return false;
    }
    return false;
  };
  const end = optionsEnd(args, takes);
  return end < 0 ? args : args.slice(0, end);
}
