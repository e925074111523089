/**
 * The files Warden keeps at rest (the transcript store, its -wal and -shm, the signed head, the
 * masking key) hold every call's arguments and what decides the masking: they are for the user
 * Warden runs as only, whatever the process umask. Files are created 0600 and exclusively
 * (O_CREAT|O_EXCL: a symbolic link planted at the name, even a dangling one, fails the create
 * instead of being written through), folders Warden creates 0700. A folder the admin made is
 * never chmodded (it may be shared on purpose), but warned about when others may write it.
 * Files are read without following a symbolic link (O_NOFOLLOW) and only when regular. Why one
 * module: the recorder and the server (masking.key) apply the same rules.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Mode of every file Warden creates at rest. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every folder Warden creates for them. */
export const PRIVATE_DIR_MODE = 0o700;

/** Why a file at rest was refused (the caller wraps it in its own coded error). */
export class AtRestRefusal extends Error {}

const errno = (e: unknown): string => String((e as { code?: unknown }).code ?? '');

/** Create `dir` (and missing parents) 0700; an existing folder is left as it is. Returns whether it was created. */
export function makePrivateDir(dir: string): boolean {
  return mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined;
}

/**
 * Create an empty file 0600, exclusively. True when created, false when something is already at
 * the name (a file another process created meanwhile is fine); a symbolic link there is refused.
 */
export function createPrivateFile(path: string, what: string): boolean {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE));
    return true;
  } catch (e) {
    if (errno(e) !== 'EEXIST') throw e;
    refuseLink(path, what);
    return false;
  }
}

/** Refuse a symbolic link at `path` (absent is fine). */
export function refuseLink(path: string, what: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) throw new AtRestRefusal(`${what} is a symbolic link: refused (remove it; Warden never writes or reads through a link there)`);
}

let tmpCount = 0;

/**
 * Replace `path` with `text` atomically: a temp file created 0600 exclusively beside it, then
 * renamed over it (rename replaces a link at the name, never writes through it).
 */
export function writePrivateFileAtomic(path: string, text: string): void {
  // Unique per write: several connections of one process (the writer thread) write the same file.
  const tmp = `${path}.${process.pid}.${threadId}.${++tmpCount}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Read a small regular file without following a link, or null when absent. A link, anything
 * but a regular file (a FIFO would never end) or a file over `maxBytes` is refused.
 */
export function readPrivateFile(path: string, what: string, maxBytes: number): { text: string; st: Stats } | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    if (errno(e) === 'ELOOP') throw new AtRestRefusal(`${what} is a symbolic link: refused (remove it; Warden never writes or reads through a link there)`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new AtRestRefusal(`${what} is not a regular file: refused`);
    if (st.size > maxBytes) throw new AtRestRefusal(`${what} is larger than ${maxBytes} bytes: refused`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return { text: buf.subarray(0, n).toString('utf8'), st };
  } finally {
    closeSync(fd);
  }
}

/**
 * What the operator should hear about a store file and its folder: a folder others may write
 * (unless Warden just created it), a store file every user may read. Stat only.
 */
export function storeModeWarnings(path: string, createdDir: boolean): { message: string; fields: Record<string, unknown> }[] {
  const out: { message: string; fields: Record<string, unknown> }[] = [];
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // absent: nothing to say about the file
  }
  const dir = dirname(real);
  if (!createdDir) {
    const st = statOr(dir);
    if (st && st.mode & 0o002) {
      out.push({ message: 'transcripts: the folder holding the store is writable by every user on this host: anyone could remove or replace the store, or plant a file beside it (chmod o-w it)', fields: { folder: dir } });
    } else if (st && st.mode & 0o020) {
      out.push({ message: `transcripts: the folder holding the store is writable by its group (gid ${st.gid}): any member could remove or replace the store (chmod g-w it, unless that group is only the user Warden runs as)`, fields: { folder: dir } });
    }
  }
  const file = statOr(real);
  if (file && file.mode & 0o004) {
    out.push({ message: 'transcripts: the store file is readable by every user on this host: it holds every call\'s arguments (chmod 600 it, and its -wal and -shm)', fields: { store: real } });
  }
  return out;
}

function statOr(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
