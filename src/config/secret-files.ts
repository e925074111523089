/**
 * `warden policy check` on the `file:` secret references of warden.yaml: their permissions are
 * looked at (stat only: nothing is read or resolved, so check stays safe on a laptop and in CI,
 * where the files are usually absent and nothing is said).
 */
import { statSync, type Stats } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ServerConfig } from './server-config.js';
import { readableWarning } from './secrets.js';
import { sharedWriteProblem } from './shared-write.js';
import { storeTlsFileProblems } from './store-tls-files.js';
import type { ConfigProblem } from './yaml-source.js';

/** Every `file:` reference of a loaded config, with the key path it was written at. */
export function fileSecretRefs(config: ServerConfig): { path: (string | number)[]; ref: string }[] {
  const out: { path: (string | number)[]; ref: string }[] = [];
  const add = (path: (string | number)[], v: unknown): void => {
    if (typeof v === 'string' && v.startsWith('file:')) out.push({ path, ref: v });
    // A nested block's references too (a postgres connection's tls: ca, cert, key).
    else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) add([...path, k], x);
  };
  for (const c of config.connections) for (const [k, v] of Object.entries(c)) add(['connections', c.name, k], v);
  add(['masking', 'hash_key'], config.masking.hash_key);
  add(['transcripts', 'signing_key'], config.transcripts.signing_key);
  add(['identity', 'oidc', 'dpop', 'nonce_key'], config.identity.oidc?.dpop?.nonce_key);
  add(['transcripts', 'store'], config.transcripts.store);
  return out;
}

/** Where a `file:` reference points: relative paths resolve against the config file's folder, as the resolver reads them. */
export function secretFilePath(config: Pick<ServerConfig, 'baseDir'>, ref: string): string {
  const p = ref.slice('file:'.length);
  return isAbsolute(p) ? p : resolve(config.baseDir, p);
}

/**
 * A secret file other users may read is a warning (the server reads it and logs the same warning:
 * a Kubernetes Secret volume is 0644 by default, so refusing it would break the common case); one every user may write, or that another
 * user or a group may write or replace (shared-write.ts), is an error (the resolver refuses it:
 * they could swap the credential). Why here: the server reads secrets only when a connection is first
 * used, so check is where an admin learns it before a call does.
 */
export function secretFileProblems(config: ServerConfig, lineOf: (path: (string | number)[]) => number): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const { path, ref } of fileSecretRefs(config)) {
    const full = secretFilePath(config, ref);
    let st: Stats;
    try {
      st = statSync(full);
    } catch {
      continue; // absent here (a laptop, CI): nothing to say
    }
    const at = { file: config.file, line: lineOf(path), path: path.join('.') };
    const mode = st.mode;
    const shared = sharedWriteProblem(full, st);
    if (mode & 0o002) out.push({ ...at, message: `${ref} is writable by every user on this host: the server refuses it (chmod o-w)`, severity: 'error' });
    else if (shared) out.push({ ...at, message: `${ref}: the server refuses it: ${shared}`, severity: 'error' });
    else if (mode & 0o044) out.push({ ...at, message: readableWarning(ref), severity: 'warning' });
  }
  // A store URL written in warden.yaml (one held by a reference is checked when the server opens it).
  if (/^postgres(ql)?:\/\//i.test(config.transcripts.store)) {
    const at = { file: config.file, line: lineOf(['transcripts', 'store']), path: 'transcripts.store' };
    const files = storeTlsFileProblems(config.transcripts.store);
    for (const message of files.errors) out.push({ ...at, message: `${message}: the server refuses it`, severity: 'error' });
    for (const message of files.warnings) out.push({ ...at, message, severity: 'warning' });
  }
  return out;
}
