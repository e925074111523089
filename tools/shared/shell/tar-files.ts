/**
 * The files GNU tar touches, for a grant's `paths:`. tar is not a read of its operands alone:
 * `-f` names the archive (read when listing or extracting, written when creating), `-C` moves
 * into a folder, `-T`/`-X` read name lists, `-g`, `--index-file`, `--volno-file` write files,
 * and extraction (`-x`, also `-d`/`--diff`, which reads the files the archive names) works in
 * the current folder, or in `-C`'s, on names only the archive knows. So extraction is held to
 * its folder: the current one is relative (refused under `paths:`), `-C DIR` must be under a
 * prefix, and `-P` (names kept absolute, `..` allowed) reaches everywhere (`/`). `-O` /
 * `--to-stdout` extracts to standard output and writes nothing. Creating (`-c`, `-r`, `-u`,
 * `-A`) reads its operands: a relative one counts from the last `-C` before it, and with none
 * it stays relative (refused). Listing treats operands as member names, which are only checked
 * when they look like paths. An archive named `host:file` is remote (tar runs rsh or ssh): it is
 * relative, so refused too. The options that run programs (`-I`, `-F`, `--to-command`, ...)
 * are the injection catalogue's. Writes (for the files git obeys, git-files.ts): the archive when
 * creating, appending or deleting, `-g`, `--index-file`, `--volno-file`; extracting into a folder
 * writes names only the archive knows, and `--transform`/`--xform` renames members as tar
 * writes them (also into an archive), so neither can be judged (`unjudged`).
 */
import { normalisePath } from './paths.js';
import type { FileWords } from './operands.js';

/** Short options that take a value (GNU tar 1.35 `tar --help`); `-I`/`-F` are refused anyway. */
const SHORT_VALUE = new Set(['b', 'C', 'f', 'F', 'g', 'H', 'I', 'K', 'L', 'N', 'T', 'V', 'X']);
/**
 * Long options that take a value from the next word (required arguments only: GNU tar 1.34/1.35
 * `tar --usage`). Every one must be here: one missing reads its value as an option or operand
 * (`--xattrs-include -O` hid an extraction into the current folder behind a `-O` tar never saw),
 * and a flag listed here swallows the next word (`--clamp-mtime -T -` hid a name list).
 */
const LONG_VALUE = [
  '--file', '--directory', '--files-from', '--exclude-from', '--listed-incremental', '--index-file', '--volno-file', '--starting-file',
  '--newer', '--after-date', '--newer-mtime', '--blocking-factor', '--record-size', '--format', '--tape-length', '--label',
  '--exclude', '--transform', '--xform', '--owner', '--group', '--mode', '--mtime', '--suffix', '--use-compress-program',
  '--info-script', '--new-volume-script', '--to-command', '--rmt-command', '--rsh-command', '--checkpoint-action', '--strip-components',
  '--pax-option', '--owner-map', '--group-map', '--add-file', '--hole-detection', '--quoting-style', '--quote-chars', '--no-quote-chars',
  '--exclude-tag', '--exclude-tag-under', '--exclude-tag-all', '--level', '--set-mtime-format', '--set-mtime-command', '--exclude-ignore',
  '--exclude-ignore-recursive', '--sort', '--sparse-version', '--warning', '--xattrs-exclude', '--xattrs-include',
];
/** Options whose value is a file (read or written) or a folder. */
const FILE_SHORT = new Set(['f', 'C', 'T', 'X', 'g']);
const FILE_LONG = ['--file', '--directory', '--files-from', '--exclude-from', '--listed-incremental', '--index-file', '--volno-file'];

type Mode = 'list' | 'extract' | 'create';
const SHORT_MODE: Readonly<Record<string, Mode>> = { t: 'list', x: 'extract', d: 'extract', c: 'create', r: 'create', u: 'create', A: 'create' };
const LONG_MODE: Readonly<Record<string, Mode>> = {
  '--list': 'list', '--test-label': 'list', '--extract': 'extract', '--get': 'extract', '--diff': 'extract', '--compare': 'extract',
  '--create': 'create', '--append': 'create', '--update': 'create', '--catenate': 'create', '--concatenate': 'create',
  // --delete rewrites the archive (-f, a file) and takes member names.
  '--delete': 'list',
};

/** Options without a value that are prefixes of ones with (`--list` of `--listed-incremental`). */
const EXACT = ['--list', '--to-stdout', '--absolute-names', '--exclude-vcs', '--exclude-caches', '--one-file-system', '--checkpoint', '--sparse', '--xattrs'];

/** The one long option an (abbreviated) name stands for, generously: the first it is a prefix of; an exact name is itself. */
function longName(name: string, names: readonly string[]): string | undefined {
  if (names.includes(name)) return name;
  if (EXACT.includes(name) || LONG_VALUE.includes(name) || Object.hasOwn(LONG_MODE, name)) return undefined;
  return name.length >= 4 ? names.find((n) => n.startsWith(name)) : undefined;
}

/** tar's words split into files (absolute, under a prefix) and path-like member names. */
export function tarWords(args: string[]): FileWords {
  // Old style: `tar cvfb X 20`, each value letter takes the next word in turn.
  const words = args[0] !== undefined && !args[0].startsWith('-') ? [`-${args[0]}`, ...args.slice(1)] : [...args];
  const files: string[] = [];
  const pathLike: string[] = [];
  const operands: { word: string; dir: string | null }[] = [];
  let mode: Mode | null = null;
  let dir: string | null = null;
  let toStdout = false;
  let absolute = false;
  let writing = false; // -x, --extract, --get (not --diff, which reads)
  let deleting = false;
  let transform: string | null = null;
  const dirs: string[] = [];
  const archives: string[] = [];
  const writes: string[] = [];
  let list: { flag: string; file: string } | undefined;
  const value = (flag: string, v: string | undefined): void => {
    if (v === undefined) return;
    if (flag === 'T' || flag === '--files-from') list ??= { flag: flag === 'T' ? '-T' : flag, file: v };
    // --add-file=NAME adds NAME (one that starts with a dash): an operand.
    if (flag === '--add-file') {
      operands.push({ word: v, dir });
      return;
    }
    if (flag === 'f' || flag === '--file') archives.push(v);
    if (['g', '--listed-incremental', '--index-file', '--volno-file'].includes(flag)) writes.push(v);
    if (flag === 'C' || flag === '--directory') {
      dir = normalisePath(v) === null ? null : v;
      dirs.push(v);
    }
    if (FILE_SHORT.has(flag) || FILE_LONG.includes(flag)) files.push(v);
    else pathLike.push(v);
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--') {
      operands.push(...words.slice(i + 1).map((word) => ({ word, dir })));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      const mod = longName(name, Object.keys(LONG_MODE));
      if (mod !== undefined) mode = LONG_MODE[mod] ?? mode;
      if (mod === '--extract' || mod === '--get') writing = true;
      if (mod === '--delete') deleting = true;
      if (name.length >= 4 && ['--transform', '--xform'].some((t) => t.startsWith(name))) transform = w;
      if (longName(name, ['--to-stdout']) !== undefined) toStdout = true;
      if (longName(name, ['--absolute-names']) !== undefined) absolute = true;
      const long = longName(name, LONG_VALUE);
      if (long === '--files-from') list ??= { flag: name, file: eq >= 0 ? w.slice(eq + 1) : (words[i + 1] ?? '') };
      if (eq >= 0) value(long ?? name, w.slice(eq + 1));
      else if (long !== undefined) value(long, words[++i]);
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      // Old-style clusters give each value letter the next word in turn; a dashed one, the rest of the word.
      const old = i === 0 && !(args[0] ?? '').startsWith('-');
      for (let k = 1; k < w.length; k++) {
        const ch = w[k] as string;
        mode = SHORT_MODE[ch] ?? mode;
        if (ch === 'x') writing = true;
        if (ch === 'O') toStdout = true;
        if (ch === 'P') absolute = true;
        if (!SHORT_VALUE.has(ch)) continue;
        if (old) value(ch, words[++i]);
        else {
          value(ch, k + 1 < w.length ? w.slice(k + 1) : words[++i]);
          break;
        }
      }
      continue;
    }
    operands.push({ word: w, dir });
  }
  if (mode === 'extract') {
    // Where extraction writes (or --diff reads): names the archive holds, under this folder.
    // A member named before any -C lands in the current folder.
    if (absolute) files.push('/');
    else if (!toStdout && (dir === null || operands.some((o) => o.dir === null))) files.push('.');
  }
  for (const { word, dir: base } of operands) {
    if (mode !== 'create') pathLike.push(word);
    else files.push(word.startsWith('/') || base === null ? word : `${base}/${word}`);
  }
  if (mode === 'create' || deleting) writes.push(...archives);
  let unjudged: string | undefined;
  // Adding files named by a list: the names inside (relative to the current folder or -C, or absolute) are not on the line.
  const from = list === undefined ? '' : list.file === '-' ? 'standard input' : `'${list.file}'`;
  const listed = mode === 'create' && list !== undefined ? { list: list.file, why: `tar ${list.flag} reads the names of the files to add from ${from}, which the line does not give` } : undefined;
  if (listed !== undefined) unjudged = `${listed.why}: name them as operands`;
  else if (transform !== null && (mode === 'create' || writing)) {
    unjudged = `tar ${transform} renames the members it writes, so their names cannot be judged (one may become a file git obeys, such as .git/config)`;
  } else if (mode === 'extract' && writing && !toStdout) {
    unjudged = 'tar extraction into a folder writes names only the archive knows (one may be a file git obeys, such as .git/config): extract with -O (--to-stdout)';
  }
  const out: FileWords = { files: files.filter((f) => f !== '-'), pathLike, writes: writes.filter((f) => f !== '-') };
  if (unjudged !== undefined) out.unjudged = unjudged;
  if (listed !== undefined) out.listed = listed;
  // Where extraction writes: every -C folder (a member may follow any), the current one, or anywhere with -P.
  if (mode === 'extract' && writing && !toStdout) out.extractsInto = absolute ? ['/'] : [...dirs, ...(dir === null || operands.some((o) => o.dir === null) ? ['.'] : [])];
  return out;
}
