/**
 * Opening the configured transcript store, and the chain signer, apart from runtime.ts: the
 * transcripts and approvals commands open the store without starting a server, and importing the
 * runtime (the pipeline, every tool's parsers) cost each of them most of a second before it read
 * a record. What this imports is what opening a store needs.
 */
import { isAbsolute, resolve } from 'node:path';
import type { SecretResolver } from '../tool-api.js';
import { ErrorCode, WardenError } from '../errors.js';
import type { ServerConfig } from '../config/server-config.js';
import { createSecretResolver } from '../config/secrets.js';
import { storeTlsFileProblems } from '../config/store-tls-files.js';
import { createChainSigner, isPgUrl, openPgStore, openSqliteStore, type ChainSigner, type WardenStore } from '../recorder/index.js';
import { log } from './log.js';

/** Resolve `sqlite:relative/path` against the config folder. */
export function storePath(config: ServerConfig): string {
  const s = config.transcripts.store;
  if (!s.startsWith('sqlite:')) throw new WardenError(ErrorCode.CONFIG, `transcripts.store: unsupported store "${s.split(':')[0]}" (this build supports sqlite:PATH)`);
  const p = s.slice('sqlite:'.length);
  return isAbsolute(p) ? p : resolve(config.baseDir, p);
}

/**
 * The transcripts.store spec with a secret reference resolved: `env:NAME`/`file:PATH` may hold a
 * `postgres://` URL (its password then never sits in warden.yaml). Plain specs pass through.
 */
export async function resolveStoreSpec(config: ServerConfig): Promise<string> {
  const s = config.transcripts.store;
  const v = /^(env|file):/.test(s) ? (await secretsOf(config).resolve(s)).trim() : s;
  if (v !== s && !isPgUrl(v) && !v.startsWith('sqlite:')) throw new WardenError(ErrorCode.CONFIG, `transcripts.store: ${s} must hold a postgres:// URL or sqlite:PATH`);
  // The TLS files a postgres:// URL names are read by pg itself: held to the `file:` secrets' trust check first.
  if (isPgUrl(v)) {
    const files = storeTlsFileProblems(v);
    if (files.errors.length) throw new WardenError(ErrorCode.CONFIG, files.errors.join('; '), { reason: 'untrusted TLS file in the store URL' });
    for (const message of files.warnings) log('warn', message);
  }
  return v;
}

/**
 * The secret resolver of a config, its warnings logged (a `file:` secret other users may read:
 * read, as a Kubernetes-mounted Secret is 0644, but said once per reference).
 */
export function secretsOf(config: ServerConfig): SecretResolver {
  return createSecretResolver(config.baseDir, process.env, { onWarning: (message) => log('warn', message) });
}

/** What the store tells of trouble only a write finds (recorder/head-refusal.ts): logged once, reason only. */
export const storeWarning = (msg: string, fields: Record<string, unknown>): void => log('warn', msg, fields);

/**
 * Open the configured transcript store, SQLite or PostgreSQL (chosen by the spec); why: serve and
 * the CLI agree. `readOnly` (the CLI's read commands): the store is opened for reading only and
 * never created, migrated, signed, recovered or checkpointed. PostgreSQL: recorder/pg-readonly.ts (an
 * auditor's role with SELECT alone can verify and read). SQLite: a read-only connection
 * (recorder/readonly-open.ts), so a copy, a read-only mount or 0440 files can be read, and a wrong
 * path is an error instead of a new empty store.
 */
export async function openConfiguredStore(
  config: ServerConfig,
  opts: { recoverInterrupted?: boolean; signer?: ChainSigner; readOnly?: boolean; adoptingHead?: boolean } = {},
): Promise<WardenStore> {
  const spec = await resolveStoreSpec(config);
  // A CLI write (purge, an approval) can find the signed head refused too: said on stderr, as serve logs it.
  const onWarning = storeWarning;
  if (isPgUrl(spec)) {
    const { owner: tableOwner, trusted_roles: trustedRoles } = config.transcripts;
    return openPgStore(spec, { recoverInterrupted: opts.recoverInterrupted === true, livenessGraceMs: config.transcripts.liveness_grace, onWarning, readOnly: opts.readOnly === true, adoptingHead: opts.adoptingHead === true, trustedRoles, ...(opts.signer ? { signer: opts.signer } : {}), ...(tableOwner ? { tableOwner } : {}) });
  }
  const path = storePath({ ...config, transcripts: { ...config.transcripts, store: spec } });
  return openSqliteStore(path, { synchronous: config.transcripts.synchronous, onWarning, readonly: opts.readOnly === true, adoptingHead: opts.adoptingHead === true, ...(opts.recoverInterrupted ? { recoverInterrupted: true } : {}), ...(opts.signer ? { signer: opts.signer } : {}) });
}

/** The chain-head signer from transcripts.signing_key, when configured. */
export async function chainSigner(config: ServerConfig): Promise<ChainSigner | undefined> {
  const ref = config.transcripts.signing_key;
  if (!ref) return undefined;
  return createChainSigner(await secretsOf(config).resolve(ref));
}
