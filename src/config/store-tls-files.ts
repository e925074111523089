/**
 * The files a PostgreSQL transcript store URL names for TLS (`?sslrootcert=`, `?sslcert=`,
 * `?sslkey=`): pg reads them itself (pg-connection-string, readFileSync), so they get the trust
 * check `file:` secrets get (shared-write.ts). Why: whoever may replace the root certificate can
 * put their own server between Warden and the store (reading the transcripts, answering the
 * approvals), and whoever may replace the client key or certificate can make Warden log in as
 * someone else. A FIFO or device there would hang startup in a synchronous read. The connections
 * of query_database never read such files: their URLs may not carry ssl parameters at all
 * (tools/postgres/tls.ts).
 */
import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { readPgUrl } from '../tool-api.js';
import { sharedWriteProblem } from './shared-write.js';

/** The URL parameters pg reads a file for. */
const FILE_PARAMS = ['sslrootcert', 'sslcert', 'sslkey'] as const;

/** What is wrong with the TLS files of a store URL: errors (refused) and warnings (read). */
export interface StoreTlsFileProblems {
  errors: string[];
  warnings: string[];
}

/**
 * The problems of the files `url` names for TLS, each naming the parameter and the file (never
 * the URL: it may hold a password). Refused: a file that cannot be found or is not a regular
 * file, one every user may write, or one another user or a group may write or replace. Said as a
 * warning: a client key other users may read. Relative paths are read by pg from the working
 * folder, so they are judged from there. Stat only: nothing is read.
 */
export function storeTlsFileProblems(url: string): StoreTlsFileProblems {
  const out: StoreTlsFileProblems = { errors: [], warnings: [] };
  const params = readPgUrl(url)?.searchParams;
  if (!params) return out;
  for (const param of FILE_PARAMS) {
    const file = params.get(param);
    if (!file) continue;
    const full = resolve(file);
    const what = `transcripts.store: the ${param} file ${full}`;
    let st: Stats;
    try {
      st = statSync(full);
    } catch {
      out.errors.push(`${what} cannot be found`);
      continue;
    }
    if (!st.isFile()) {
      out.errors.push(`${what} is not a regular file`);
      continue;
    }
    const shared = st.mode & 0o002 ? 'writable by every user on this host (chmod o-w it)' : sharedWriteProblem(full, st);
    if (shared) out.errors.push(`${what} is refused: ${shared}`);
    else if (param === 'sslkey' && st.mode & 0o044) out.warnings.push(`${what} is readable by other users on this host (chmod 600 it, owned by the user Warden runs as)`);
  }
  return out;
}
