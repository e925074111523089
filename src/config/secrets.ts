/**
 * Secret references: `env:NAME` and `file:/path`. Values are resolved inside Warden only and
 * never logged; errors name the reference, never the value.
 */
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, WardenError } from '../errors.js';
import type { SecretResolver } from '../tool-api.js';
import { sharedWriteProblem } from './shared-write.js';

/** Matches a secret reference; inline secrets are refused by the config schema. */
export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** Options of a resolver. */
export interface SecretResolverOptions {
  /**
   * Told, once per reference, of a `file:` secret other users may read (group or others): it is
   * read all the same (a Kubernetes Secret volume is 0644 by default), as `policy check` warns.
   */
  onWarning?: (message: string) => void;
}

/** Create a resolver; relative `file:` paths resolve against the config file's folder. */
export function createSecretResolver(baseDir: string, env: NodeJS.ProcessEnv = process.env, opts: SecretResolverOptions = {}): SecretResolver {
  const warned = new Set<string>();
  const readable = (ref: string): void => {
    if (warned.has(ref) || !opts.onWarning) return;
    warned.add(ref);
    opts.onWarning(readableWarning(ref));
  };
  return {
    async resolve(ref: string): Promise<string> {
      if (ref.startsWith('env:')) {
        const name = ref.slice(4);
        const v = env[name];
        if (v === undefined || v === '') {
          throw new WardenError(ErrorCode.SECRET, `secret reference ${ref} is not set in the environment`);
        }
        return v;
      }
      if (ref.startsWith('file:')) {
        const p = ref.slice(5);
        const full = isAbsolute(p) ? p : resolve(baseDir, p);
        return readSecretFile(ref, full, readable);
      }
      throw new WardenError(ErrorCode.SECRET, 'not a secret reference (expected env:NAME or file:/path)');
    },
  };
}

/** What is said of a `file:` secret other users may read (here and by `policy check`, secret-files.ts). */
export function readableWarning(ref: string): string {
  return `${ref} is readable by other users on this host (chmod 600 it, owned by the user Warden runs as)`;
}

/** Largest secret file read (a kubeconfig with embedded certificates is a few KiB). */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/**
 * Read a `file:` secret, refusing what must not be trusted as one: a file anyone on the host may
 * write, or that another user or a group may write or replace (shared-write.ts: they could swap
 * the credential, a kubeconfig pointing at their own API server), and anything but a regular file
 * (`file:/dev/zero` or a FIFO would never end). Opened once and checked through the same
 * descriptor, so the file checked is the file read.
 */
async function readSecretFile(ref: string, full: string, readable: (ref: string) => void): Promise<string> {
  const refused = (why: string) => new WardenError(ErrorCode.SECRET, `secret reference ${ref} ${why}`);
  let fh;
  try {
    fh = await open(full, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    throw refused('cannot be read');
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refused('is not a regular file');
    if (st.mode & 0o002) throw refused('is writable by every user on this host (chmod o-w it)');
    const shared = sharedWriteProblem(full, st);
    if (shared) throw refused(`is refused: ${shared}`);
    if (st.size > MAX_SECRET_FILE_BYTES) throw refused(`is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    if (st.mode & 0o044) readable(ref);
    return (await fh.readFile('utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    throw e instanceof WardenError ? e : refused('cannot be read');
  } finally {
    await fh.close().catch(() => undefined);
  }
}
