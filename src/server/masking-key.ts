/**
 * masking.key: the hashing key of the `hash` masking strategy when masking.hash_key is not
 * configured, one random key per deployment kept beside the transcripts (stable across
 * restarts). Whoever reads it can hash guesses and match them against masked values, and
 * whoever chooses it can do the same: it is created 0600 (in a 0700 folder when Warden makes
 * it), exclusively, and read without following a link (recorder/at-rest.ts). A file there that
 * is a link, not regular, empty or owned by another user than root or Warden's is refused
 * (WARDEN_CONFIG); one other users may read is used and warned about.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, WardenError } from '../errors.js';
import { AtRestRefusal, makePrivateDir, PRIVATE_FILE_MODE, readPrivateFile } from '../recorder/index.js';

const MAX_KEY_BYTES = 4096;

/** The key in `file`, created when absent; `warn` hears about a key file others may read. */
export function loadOrCreateMaskingKey(file: string, warn: (message: string) => void): string {
  const what = `the masking key ${file}`;
  try {
    makePrivateDir(dirname(file));
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = readPrivateFile(file, what, MAX_KEY_BYTES);
      if (found) {
        const me = process.geteuid?.() ?? 0;
        if (found.st.uid !== 0 && found.st.uid !== me) throw new AtRestRefusal(`${what} is owned by uid ${found.st.uid}, neither root nor the user Warden runs as (uid ${me}): refused (that user chose or can read the key)`);
        const key = found.text.trim();
        if (!key) throw new AtRestRefusal(`${what} is empty: refused (remove it and Warden creates a new key, or set masking.hash_key)`);
        if (found.st.mode & 0o044) warn(`${what} is readable by other users on this host: they could hash guesses and match masked values (chmod 600 it)`);
        return key;
      }
      const key = randomBytes(32).toString('hex');
      if (createExclusive(file, key + '\n')) return key;
      // Another process created it meanwhile: read theirs.
    }
    throw new AtRestRefusal(`${what} could not be created or read`);
  } catch (e) {
    if (e instanceof AtRestRefusal) throw new WardenError(ErrorCode.CONFIG, `masking: ${e.message}`);
    throw new WardenError(ErrorCode.CONFIG, `masking: ${what} cannot be created or read (${(e as { code?: string }).code ?? 'error'}); set masking.hash_key or fix the folder`);
  }
}

/**
 * Put `text` at `file` only if nothing is there, whole: written to a temp file created 0600
 * exclusively, then hard-linked into place (link never replaces an existing name, a link
 * planted there included, and a concurrent reader never sees half a key). False when the
 * name was taken. Where hard links are not supported, the file is created exclusively and written.
 */
function createExclusive(file: string, text: string): boolean {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeNew(tmp, flags, text);
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    try {
      writeNew(file, flags, text);
      return true;
    } catch (e2) {
      if ((e2 as { code?: string }).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function writeNew(path: string, flags: number, text: string): void {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
