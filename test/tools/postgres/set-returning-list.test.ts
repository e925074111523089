/**
 * The built-in set-returning functions (analysis/functions.ts SET_RETURNING_FUNCTIONS): a masked
 * column fed to one is a row count computed from it wherever it is called, so one missing from
 * the list is a count that runs. Against the suite's real PostgreSQL: every function of
 * pg_catalog that returns a set (pg_proc.proretset) is listed. Those of later releases (16 to 18)
 * cannot be asked from this cluster: a few are pinned by name, and a call fed a masked column is
 * recorded at 'srf' (predicate-channels.ts refuses it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { SET_RETURNING_FUNCTIONS } from '../../../tools/postgres/analysis/functions.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'srflist' });
});

after(async () => {
  await db?.drop();
});

test("every set-returning function of this cluster's pg_catalog is listed", async () => {
  const r = await db.query<{ proname: string }>(
    "SELECT DISTINCT p.proname::text AS proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pg_catalog' AND p.proretset ORDER BY 1",
  );
  assert.ok(r.rows.length > 50, `the catalog lists ${r.rows.length} set-returning functions`);
  const missing = r.rows.map((x) => x.proname).filter((n) => !SET_RETURNING_FUNCTIONS.has(n));
  assert.deepEqual(missing, []);
});

/** Set-returning functions PostgreSQL 16, 17 and 18 added (release notes; pg_proc.proretset). */
const LATER = ['pg_stat_get_io', 'pg_available_wal_summaries', 'pg_wal_summary_contents', 'pg_get_loaded_modules', 'pg_get_aios', 'pg_ls_summariesdir', 'pg_stat_get_backend_io', 'pg_get_shmem_allocations_numa'];

test('set-returning functions of PostgreSQL 16 to 18 are listed, and a masked column fed to one is a count', () => {
  for (const name of LATER) {
    assert.ok(SET_RETURNING_FUNCTIONS.has(name), name);
    const facts = analyzeSql(`SELECT ${name}(length(u.email)) FROM public.users u`);
    assert.ok(facts.predicateColumns.some((p) => p.where === 'srf' && p.column.column === 'email'), name);
  }
});
