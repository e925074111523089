/**
 * The files zip, 7z and cpio touch, for a grant's `paths:`. Unmodelled, only their path-like
 * words were judged, so `zip out.zip /srv/app/f` wrote a bare relative name in the login folder.
 * Modelled as tar and unzip are (tar-files.ts, writer-words.ts): the archive and the files added
 * are files (absolute, under a prefix), the archive written when created or changed; extraction
 * writes names only the archive knows and is refused (7z `e`/`x` without `-so`, cpio `-i` without
 * `-t`/`--to-stdout`), and so is reading the files whose names standard input or a list gives
 * (zip `-@`, 7z `@list`, cpio `-o`/`-p`). Any option the lists do not hold is refused (fail
 * closed; zip's many-letter options only as the words listed). Lists: Info-ZIP zip 3.0, p7zip
 * 16.02 / 7-Zip 23 and GNU cpio 2.13 manuals; zip's `-TT`/`--unzip-command` are the catalogue's.
 */
import type { FileWords } from './operands.js';
import { scanSpec, specFileWords, unknownWhy, uses, valuesOf, type OptionSpec } from './option-spec.js';

/** zip's one-letter options without a value, as words of their own. */
const ZIP_FLAGS = new Set('0123456789rjqvmoyDXkgdfuFAzceTlLSh'.split('').map((c) => `-${c}`));
/** Clusters of these letters form no many-letter option (`-r9q`, not `-lf`). */
const ZIP_CLUSTER = /^-[0-9rjqoyDXkgm]+$/;
/** zip's many-letter options without a value, only as whole words. */
const ZIP_WORDS = new Set(['-ll', '-la', '-li', '-sf', '-so', '-dc', '-dd', '-dg', '-du', '-dv', '-db', '-FS', '-FF', '-ws', '-nw', '-MM', '-sd', '-sv', '-sc']);
/** Options that take a value (attached or the next word); their value is text unless ZIP_WRITES says. */
const ZIP_VALUES = new Set(['-O', '-b', '-n', '-t', '-P', '-Z', '-s', '-lf', '-tt', '-ds', '--output-file', '--temp-path', '--logfile-path', '--suffixes',
  '--password', '--compression-method']);
const ZIP_WRITES = new Set(['-O', '-b', '-lf', '--output-file', '--temp-path', '--logfile-path']);
const ZIP_LONG_FLAGS = new Set(['--recurse-paths', '--quiet', '--verbose', '--junk-paths', '--test', '--delete', '--freshen', '--update', '--move',
  '--symlinks', '--log-append', '--log-info']);
/** Options whose values are a list of patterns up to the next option word (`-x '*.o' '*.tmp'`); `@FILE` reads a list. */
const ZIP_LISTS = new Set(['-x', '-i', '--exclude', '--include']);
const SHORT_VALUED = [...ZIP_VALUES, ...ZIP_LISTS].filter((f) => !f.startsWith('--')).sort((a, b) => b.length - a.length);

/** zip [OPTION...] ZIPFILE [FILE...]: the archive (written), the files (read; written too with -m). */
export function zipWords(args: string[]): FileWords {
  const reads: string[] = [];
  const writes: string[] = [];
  const pathLike: string[] = [];
  const operands: string[] = [];
  let unknown: string | undefined;
  let names = false; // -d, --delete: operands after the archive are member names
  let move = false;
  let stdin = false;
  const listWord = (v: string): void => {
    if (v.startsWith('@')) reads.push(v.slice(1));
    else pathLike.push(v);
  };
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      operands.push(w);
      continue;
    }
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const name = eq < 0 ? w : w.slice(0, eq);
    if (w === '-@' || name === '--names-stdin') stdin = true;
    else if (w === '-d' || name === '--delete') names = true;
    else if (name === '--move' || (ZIP_CLUSTER.test(w) && w.includes('m'))) move = true;
    if (eq < 0 && (ZIP_FLAGS.has(w) || ZIP_CLUSTER.test(w) || ZIP_WORDS.has(w) || ZIP_LONG_FLAGS.has(w) || w === '-@' || w === '--names-stdin')) continue;
    // A value attached to a short option (`-Oout.zip`, `-x@list`): the longest option the word starts with (`-tt`, not `-t`).
    const short = w.startsWith('--') ? undefined : SHORT_VALUED.find((f) => w.startsWith(f) && w.length > f.length);
    const option = short ?? name;
    if (ZIP_VALUES.has(option) || ZIP_LISTS.has(option)) {
      const attached = short !== undefined || eq >= 0;
      const v = short !== undefined ? w.slice(short.length) : eq >= 0 ? w.slice(eq + 1) : args[++i];
      if (ZIP_LISTS.has(option)) {
        listWord(v ?? '');
        // Only a list given as words of their own runs on (`-x '*.o' '*.tmp'`); after `-x'*.o'` the next word is a file again.
        while (!attached && i + 1 < args.length && !(args[i + 1] as string).startsWith('-')) listWord(args[++i] as string);
      } else if (ZIP_WRITES.has(option)) writes.push(v ?? '');
      continue;
    }
    unknown ??= w;
    pathLike.push(eq >= 0 ? w.slice(eq + 1) : w);
  }
  const [archive, ...files] = operands;
  if (archive !== undefined) writes.push(archive);
  if (names) pathLike.push(...files);
  else reads.push(...files);
  if (move && !names) writes.push(...files);
  const listed = stdin ? { list: '-', why: 'zip -@ reads the names of the files to add from standard input, which the line does not give' } : undefined;
  const why = unknown !== undefined ? unknownWhy('zip', unknown) : listed !== undefined ? `${listed.why}: name them as operands` : undefined;
  return withList(specFileWords('zip', undefined, reads, writes, why, pathLike), listed);
}

/** 7z switches that name no file (type, method, password, volumes, recursion, output streams, overwrite modes, ...). */
const SEVENZ_TEXT = /^-(t\w*|m.+|p.*|v\w+|r[-0]?|y|bs[oep][012]|bb[0-3]?|bt|bd|ao[astu]|an|so|si.*|ssc-?|scs\w+|scc\w+|spf2?|snl|sni|sns|stl|ssw|slt|sccUTF-8)$/;
/** 7z's commands: those that write the archive, read it, or extract from it. */
const SEVENZ_WRITE = new Set(['a', 'u', 'd', 'rn']);
const SEVENZ_READ = new Set(['l', 't', 'i', 'b', 'h']);
const SEVENZ_EXTRACT = new Set(['e', 'x']);

/** 7z COMMAND [SWITCH...] ARCHIVE [FILE...] (also 7za, 7zr, 7zz): see the module note. */
export function sevenZipWords(args: string[]): FileWords {
  const reads: string[] = [];
  const writes: string[] = [];
  const pathLike: string[] = [];
  const operands: string[] = [];
  let unknown: string | undefined;
  let stdout = false;
  let sdel = false;
  let into = '.';
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') operands.push(w);
    else if (w.startsWith('-o')) {
      into = w.slice(2);
      writes.push(into);
    }
    else if (w.startsWith('-w')) {
      if (w.length > 2) writes.push(w.slice(2));
    } else if (/^-[ix]/.test(w)) {
      const v = w.replace(/^-[ix](r[-0]?)?/, '');
      if (v.startsWith('@')) reads.push(v.slice(1));
      else if (v.startsWith('!')) pathLike.push(v.slice(1));
      else unknown ??= w;
    } else if (w === '-sdel') sdel = true;
    else if (SEVENZ_TEXT.test(w)) stdout ||= w === '-so';
    else {
      unknown ??= w;
      pathLike.push(w.slice(2));
    }
  }
  const [verb = '', archive, ...files] = operands;
  const command = verb.toLowerCase();
  let why = unknown !== undefined ? unknownWhy('7z', unknown) : undefined;
  if (!SEVENZ_WRITE.has(command) && !SEVENZ_READ.has(command) && !SEVENZ_EXTRACT.has(command)) {
    why ??= `7z command '${verb}' is not one Warden models, so what it reads or writes cannot be judged under paths:`;
  }
  if (command === 'h') reads.push(...[archive, ...files].filter((f): f is string => f !== undefined));
  else if (command !== 'b' && command !== 'i' && archive !== undefined) (SEVENZ_WRITE.has(command) ? writes : reads).push(archive);
  const list = files.find((f) => f.startsWith('@'));
  let listed: FileWords['listed'];
  if (command === 'a' || command === 'u') {
    reads.push(...files.filter((f) => !f.startsWith('@')));
    if (sdel) writes.push(...files);
    if (list !== undefined) listed = { list: list.slice(1), why: `7z reads the names of the files to add from the list '${list.slice(1)}', which the line does not give` };
    if (listed !== undefined) why ??= `${listed.why}: name them as operands`;
  } else if (command !== 'h') pathLike.push(...files);
  const extracts = SEVENZ_EXTRACT.has(command) && !stdout;
  if (extracts) {
    why ??= '7z extracts names only the archive knows (one may be a file git obeys, or outside the prefixes): list it (l) or extract to standard output (-so) instead';
  }
  const out = withList(specFileWords('7z', undefined, reads, writes, why, pathLike), listed);
  // -spf keeps the archive's absolute names.
  if (extracts) out.extractsInto = args.includes('-spf') || args.includes('-spf2') ? ['/'] : [into];
  return out;
}

const CPIO: OptionSpec = {
  name: 'cpio',
  // Not -r (--rename asks on the terminal for each name) nor --rsh-command (runs a program).
  flags: 'iopt0aABbcdfLlmnSsuVv',
  values: 'CDEFHIMOR',
  longFlags: [
    '--extract', '--create', '--pass-through', '--list', '--null', '--reset-access-time', '--append', '--swap', '--nonmatching',
    '--make-directories', '--dereference', '--link', '--preserve-modification-time', '--numeric-uid-gid', '--swap-halfwords',
    '--swap-bytes', '--unconditional', '--verbose', '--dot', '--quiet', '--sparse', '--only-verify-crc', '--no-absolute-filenames',
    '--absolute-filenames', '--no-preserve-owner', '--to-stdout', '--device-independent', '--reproducible', '--ignore-devno',
    '--renumber-inodes', '--force-local', '--version', '--help',
  ],
  longValues: ['--io-size', '--directory', '--pattern-file', '--file', '--format', '--message', '--owner', '--block-size'],
  abbreviations: true,
};

/** cpio -i|-o|-p: see the module note. -F/-I/-O name the archive (-F written with -o); -E and -D are read. */
export function cpioWords(args: string[]): FileWords {
  const s = scanSpec(CPIO, args);
  const reads = valuesOf(s, '-E', '--pattern-file', '-D', '--directory', '-I');
  const writes = valuesOf(s, '-O');
  const archives = valuesOf(s, '-F', '--file');
  let why: string | undefined;
  let listed: FileWords['listed'];
  let into: string[] | undefined;
  const pathLike: string[] = [];
  if (uses(s, '-o', '--create')) {
    writes.push(...archives);
    listed = { list: '-', why: 'cpio -o reads the files whose names standard input gives, which the line does not name' };
    why = `${listed.why} (one may lie outside the prefixes)`;
  } else if (uses(s, '-p', '--pass-through')) {
    writes.push(s.operands[0] ?? '.');
    into = [s.operands[0] ?? '.'];
    listed = { list: '-', why: 'cpio -p reads the files whose names standard input gives, which the line does not name' };
    why = `${listed.why}, and writes them under its folder`;
  } else if (uses(s, '-i', '--extract', '-t', '--list')) {
    reads.push(...archives);
    pathLike.push(...s.operands);
    if (!uses(s, '-t', '--list', '--to-stdout', '--only-verify-crc')) {
      why = 'cpio -i extracts names only the archive knows (one may be a file git obeys, or outside the prefixes): list it (-t) or extract with --to-stdout';
      // GNU cpio keeps an absolute member name (`/dev/sda`) unless told not to.
      into = uses(s, '--no-absolute-filenames') ? [valuesOf(s, '-D', '--directory').pop() ?? '.'] : ['/'];
    }
  } else {
    reads.push(...archives);
    why = 'cpio needs a mode (-i, -o or -p) for Warden to tell what it reads and writes';
  }
  const out = withList(specFileWords(CPIO.name, s.unknown, reads, writes, why, [...pathLike, ...s.strays]), listed);
  if (into !== undefined) out.extractsInto = into;
  return out;
}

/** `out` with the list its files' names come from, for a deny's paths: (deny-paths.ts). */
function withList(out: FileWords, listed: FileWords['listed']): FileWords {
  if (listed !== undefined) out.listed = listed;
  return out;
}
