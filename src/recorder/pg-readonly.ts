/**
 * Opening the PostgreSQL store for an auditor (`warden transcripts verify|list|show|...`): a role
 * with SELECT on the store's tables and USAGE on their schema, not the writer's rights. Why: the
 * writer's role must not be needed to check the writer's work. Such a store is not migrated, never
 * signs, holds no liveness rows, and its connections run read-only (the server refuses any write)
 * with `row_security = off`, so a row-level security policy that would hide rows from the auditor
 * fails its queries instead of filtering them: verify cannot pass, nor a listing look complete, on
 * a partial view (pg-errors.ts names the table). docs/transcripts.md lists the GRANTs it needs.
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../errors.js';
import { PG_SCHEMA_VERSION, pgSchemaVersion } from './pg-schema.js';

/** Session settings of a read-only store's connections (appended to the pool's `options`). */
export const PG_READ_ONLY_SETTINGS = '-c default_transaction_read_only=on -c row_security=off';

/**
 * Check, without writing, that the stored schema is the version this Warden reads; why: a
 * read-only open cannot migrate, and verify compares the tables with this version's shapes
 * (pg-schema-expected.ts), so an older or newer schema is refused with what to do, not misread.
 */
export async function pgCheckReadableSchema(c: pg.ClientBase): Promise<void> {
  const at = await pgSchemaVersion(c);
  const refuse = (why: string) => new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open read-only: ${why}`, { schemaVersion: at, reads: PG_SCHEMA_VERSION });
  if (at === 0) {
    throw refuse(`the transcript store holds no Warden schema (no schema_version table this role can see): migrate with a writer first (warden serve with the writer's role), or grant this role USAGE on the store's schema`);
  }
  if (at < PG_SCHEMA_VERSION) throw refuse(`schema version ${at}, older than the version ${PG_SCHEMA_VERSION} this Warden reads: migrate with a writer first (warden serve of this version with the writer's role)`);
  if (at > PG_SCHEMA_VERSION) throw refuse(`schema version ${at}, newer than the version ${PG_SCHEMA_VERSION} this Warden reads: upgrade Warden`);
}
