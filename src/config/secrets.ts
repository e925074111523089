/**
 * Secret references: `env:NAME` and `file:/path`. Values are resolved inside Warden only and
 * never logged; errors name the reference, never the value.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, WardenError } from '../errors.js';
import type { SecretResolver } from '../tool-api.js';

/** Matches a secret reference; inline secrets are refused by the config schema. */
export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** Create a resolver; relative `file:` paths resolve against the config file's folder. */
export function createSecretResolver(baseDir: string, env: NodeJS.ProcessEnv = process.env): SecretResolver {
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
        try {
          return (await readFile(full, 'utf8')).replace(/\r?\n$/, '');
        } catch {
          throw new WardenError(ErrorCode.SECRET, `secret reference ${ref} cannot be read`);
        }
      }
      throw new WardenError(ErrorCode.SECRET, 'not a secret reference (expected env:NAME or file:/path)');
    },
  };
}
