/**
 * The files of two writers whose words no getopt model reads (operands.ts `fileWords`):
 * dd's `KEY=VALUE` operands and unzip's archive, member names and `-d` folder.
 */
import type { FileWords } from './operands.js';

/**
 * dd reads `if=FILE` and writes `of=FILE`; its other `KEY=VALUE` operands (bs=, count=, conv=,
 * status=, ...) name no file. A word that is neither is one dd refuses, and counts as a file
 * (fail closed: a relative one is refused under `paths:`).
 */
export function ddWords(args: string[]): FileWords {
  const out: FileWords = { files: [], pathLike: [], writes: [] };
  for (const w of args) {
    const eq = w.indexOf('=');
    const key = eq < 0 ? undefined : w.slice(0, eq);
    if (key === 'if' || key === 'of') out.files.push(w.slice(eq + 1));
    if (key === 'of') out.writes.push(w.slice(eq + 1));
    if (key === undefined && !w.startsWith('-')) out.files.push(w);
  }
  return out;
}

/** unzip options that take a value (the rest of the cluster or the next word): -d folder, -P password, -O/-I charsets. */
const UNZIP_VALUE = new Set(['d', 'P', 'O', 'I']);
/** Modes that write nothing: list, test, pipe (-p, -c), comment, zipinfo (-Z). */
const UNZIP_READS = new Set(['l', 't', 'v', 'p', 'c', 'z', 'Z']);

/**
 * unzip ARCHIVE [MEMBER...] [-x MEMBER...] [-d DIR]: the archive is a file; the other operands are
 * member names (checked only when they look like paths, as tar's). Extraction writes names only
 * the archive knows, as `tar -x` does (tar-files.ts): into the current folder (relative: refused
 * under `paths:`) or `-d DIR`, where they may be a file git obeys, so it cannot be judged; listing
 * (-l, -v, -Z), testing (-t) and extraction to standard output (-p, -c) write nothing.
 */
export function unzipWords(args: string[]): FileWords {
  const out: FileWords = { files: [], pathLike: [], writes: [] };
  let archive: string | undefined;
  let dir: string | undefined;
  let reads = false;
  let climbs = false; // -: keeps `../` in member names
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w.startsWith('-') && w.length > 1) {
      for (let k = 1; k < w.length; k++) {
        const c = w[k] as string;
        if (UNZIP_READS.has(c)) reads = true;
        if (c === ':') climbs = true;
        if (!UNZIP_VALUE.has(c)) continue;
        const v = k + 1 < w.length ? w.slice(k + 1) : args[++i];
        if (c === 'd') dir = v ?? '';
        break;
      }
    } else if (archive === undefined) archive = w;
    else out.pathLike.push(w);
  }
  if (archive !== undefined) out.files.push(archive);
  if (reads) return out;
  out.files.push(dir ?? '.');
  out.extractsInto = climbs ? ['/'] : [dir ?? '.'];
  if (dir !== undefined) out.unjudged = `unzip extracts names only the archive knows into '${dir}' (one may be a file git obeys): list it (-l) or extract to standard output (-p) instead`;
  return out;
}
