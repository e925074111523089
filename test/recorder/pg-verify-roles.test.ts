/**
 * The PostgreSQL verify's role, schema and trigger checks (pg-verify-roles.ts,
 * pg-verify-triggers.ts): writes that no table ACL shows. Membership in the owner's role, default
 * privileges, the schema's owner and CREATE right, and triggers on the store's tables are scoped to
 * the test's own roles and database, so they run on the shared cluster; superusers, CREATEROLE and
 * pg_write_all_data are cluster-wide, so that test starts a cluster of its own (a superuser made
 * on the shared one would fail every other test's verify while it exists). Each store first
 * verifies as created (withStore): the bootstrap superuser `postgres` and the auditor's SELECT are
 * a clean setup. transcripts.trusted_roles (a managed service's admin role) excuses a role from the
 * role and schema checks only, not from a table grant, a default privilege or a function's owner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPgCluster } from '../support/pg-cluster.js';
import { steps, trustedSteps, withStore, withTrusted } from './pg-verify-steps.js';

const finding = (what: string) => new RegExp(`privileges differ from what the store creates: ${what}`);

test('PostgreSQL verify reports a member of the owner\'s role, default privileges that hand out writes, and the schema\'s owner and CREATE right', async () => {
  await withStore('pgverifyroles', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    const w = pg.escapeIdentifier(db.role);
    const team = pg.escapeIdentifier(`${other}_team`);
    // The auditor's rights are a clean setup.
    await db.query(`GRANT USAGE ON SCHEMA public TO ${o}; GRANT SELECT ON records, calls TO ${o}`);
    assert.equal((await s.verify()).ok, true);
    await db.query(`CREATE ROLE ${team} NOLOGIN`);
    try {
      await steps(s, db, [
        [`GRANT ${w} TO ${o}`, finding(`${other} is a member of the owner ${db.role} \\(it writes as the owner\\)`), `REVOKE ${w} FROM ${o}`],
        // Through a group role: the member nearest the owner is named.
        [`GRANT ${w} TO ${team}; GRANT ${team} TO ${o}`, finding(`${other}_team is a member of the owner ${db.role}`), `REVOKE ${team} FROM ${o}; REVOKE ${w} FROM ${team}`],
        [`ALTER DEFAULT PRIVILEGES FOR ROLE ${w} IN SCHEMA public GRANT INSERT ON TABLES TO ${o}`,
          finding(`the default privileges of ${db.role} give INSERT on new tables in the store's schema to ${other}`),
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${w} IN SCHEMA public REVOKE INSERT ON TABLES FROM ${o}`],
        [`ALTER DEFAULT PRIVILEGES FOR ROLE ${w} GRANT UPDATE ON TABLES TO PUBLIC`,
          finding(`the default privileges of ${db.role} give UPDATE on new tables in every schema to PUBLIC`),
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${w} REVOKE UPDATE ON TABLES FROM PUBLIC`],
        [`ALTER SCHEMA public OWNER TO ${o}`, finding(`schema public is owned by ${other}, not ${db.role} \\(its owner drops any table in it\\)`), 'ALTER SCHEMA public OWNER TO pg_database_owner'],
        // public owned by pg_database_owner is another role's when the database is not the owner's or the bootstrap superuser's.
        [`ALTER DATABASE ${pg.escapeIdentifier(db.dbName)} OWNER TO ${o}`, finding(`schema public is owned by pg_database_owner \\(the database's owner ${other}\\)`),
          `ALTER DATABASE ${pg.escapeIdentifier(db.dbName)} OWNER TO postgres`],
        [`GRANT CREATE ON SCHEMA public TO ${o}`, finding(`${other} holds CREATE on schema public \\(a function or operator it creates there runs with the writer's rights\\)`), `REVOKE CREATE ON SCHEMA public FROM ${o}`],
        ['GRANT CREATE ON SCHEMA public TO PUBLIC', finding('PUBLIC holds CREATE on schema public'), 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'],
      ]);
      // A database the owner owns is a clean setup too (public is then the owner's through pg_database_owner).
      await db.query(`ALTER DATABASE ${pg.escapeIdentifier(db.dbName)} OWNER TO ${w}`);
      assert.equal((await s.verify()).ok, true);
    } finally {
      await db.query(`DROP ROLE IF EXISTS ${team}`);
    }
  });
});

test('transcripts.trusted_roles: a trusted member of the owner, owner of the schema or holder of CREATE on it passes; its members, its table grants, default privileges and functions do not', async () => {
  await withStore('pgverifytrust', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    const w = pg.escapeIdentifier(db.role);
    const team = pg.escapeIdentifier(`${other}_team`);
    const hint = "; name it in transcripts\\.trusted_roles if it is your managed service's admin role";
    await db.query(`CREATE ROLE ${team} NOLOGIN`);
    try {
      await withTrusted(db, [other], async (t) => {
        assert.equal((await t.verify()).ok, true);
        await trustedSteps(s, t, db, [
          [`GRANT ${w} TO ${o}`, finding(`${other} is a member of the owner ${db.role} \\(it writes as the owner\\)${hint}`), `REVOKE ${w} FROM ${o}`],
          // What PostgreSQL 16 and later give a CREATEROLE role (the RDS master user) on each role it creates.
          [`GRANT ${w} TO ${o} WITH ADMIN OPTION`, finding(`${other} is a member of the owner ${db.role}`), `REVOKE ${w} FROM ${o}`],
          [`ALTER SCHEMA public OWNER TO ${o}`, finding(`schema public is owned by ${other}, not ${db.role} \\(its owner drops any table in it\\)${hint}`), 'ALTER SCHEMA public OWNER TO pg_database_owner'],
          // The managed service's admin role owns the database it created (public: pg_database_owner).
          [`ALTER DATABASE ${pg.escapeIdentifier(db.dbName)} OWNER TO ${o}`, finding(`schema public is owned by pg_database_owner \\(the database's owner ${other}\\)`),
            `ALTER DATABASE ${pg.escapeIdentifier(db.dbName)} OWNER TO postgres`],
          [`GRANT CREATE ON SCHEMA public TO ${o}`, finding(`${other} holds CREATE on schema public \\(a function or operator it creates there runs with the writer's rights\\)${hint}`), `REVOKE CREATE ON SCHEMA public FROM ${o}`],
        ]);
        await steps(t, db, [
          // Trusted is the role, not its members: one reaching the owner through it is reported.
          [`GRANT ${w} TO ${o}; GRANT ${o} TO ${team}`, finding(`${other}_team is a member of the owner ${db.role}`), `REVOKE ${o} FROM ${team}; REVOKE ${w} FROM ${o}`],
          // A table grant is a standing write right for whoever logs in as the role: still a finding.
          [`GRANT INSERT ON records TO ${o}`, finding(`${other} holds INSERT on records \\(only the owner ${db.role} may\\)`), `REVOKE INSERT ON records FROM ${o}`],
          [`GRANT UPDATE (body) ON records TO ${o}`, finding(`${other} holds UPDATE on records\\.body`), `REVOKE UPDATE (body) ON records FROM ${o}`],
          [`ALTER DEFAULT PRIVILEGES FOR ROLE ${w} IN SCHEMA public GRANT INSERT ON TABLES TO ${o}`,
            finding(`the default privileges of ${db.role} give INSERT on new tables in the store's schema to ${other}`),
            `ALTER DEFAULT PRIVILEGES FOR ROLE ${w} IN SCHEMA public REVOKE INSERT ON TABLES FROM ${o}`],
          [`ALTER FUNCTION warden_records_append_only() OWNER TO ${o}`, finding(`function warden_records_append_only is owned by ${other}`), `ALTER FUNCTION warden_records_append_only() OWNER TO ${w}`],
          // PUBLIC is no role to trust, and no hint names it.
          ['GRANT CREATE ON SCHEMA public TO PUBLIC', /PUBLIC holds CREATE on schema public \([^)]*\)$/, 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'],
        ]);
      });
    } finally {
      await db.query(`DROP ROLE IF EXISTS ${team}`);
    }
  });
});

test('PostgreSQL verify reports a trigger on any store table and a guard that is not the one the store creates', async () => {
  await withStore('pgverifytrig', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    const w = pg.escapeIdentifier(db.role);
    const guard = (body: string) => `CREATE OR REPLACE FUNCTION warden_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$ ${body} $f$`;
    const restoreGuard = 'DROP TRIGGER records_append_only ON records; CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records FOR EACH ROW EXECUTE FUNCTION warden_records_append_only()';
    await db.query(`CREATE FUNCTION rewrite_row() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$`);
    await steps(s, db, [
      // settings is not one of the verified tables, but a trigger there swaps what the writer reads and writes.
      ['CREATE TRIGGER swap_key BEFORE INSERT OR UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION rewrite_row()', /schema differs.*trigger swap_key on settings is not part of it/, 'DROP TRIGGER swap_key ON settings'],
      ['CREATE RULE keep AS ON INSERT TO liveness_marks DO ALSO NOTIFY x', /schema differs.*rule keep on liveness_marks is not part of it/, 'DROP RULE keep ON liveness_marks'],
      // The guard's name on a trigger that rewrites each record as it is appended.
      ['DROP TRIGGER records_append_only ON records; CREATE TRIGGER records_append_only BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION rewrite_row()',
        /trigger records_append_only on records is not the store's append-only guard: it does not fire exactly BEFORE UPDATE OR DELETE FOR EACH ROW/, restoreGuard],
      ['DROP TRIGGER records_append_only ON records; CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records FOR EACH ROW EXECUTE FUNCTION rewrite_row()',
        /not the store's append-only guard: it calls rewrite_row, not warden_records_append_only/, restoreGuard],
      [guard('BEGIN RETURN NEW; END'), /not the store's append-only guard: its function is not the one the store creates/, guard("BEGIN RAISE EXCEPTION 'transcript records are append-only'; END")],
      [`ALTER FUNCTION warden_records_append_only() OWNER TO ${o}`, finding(`function warden_records_append_only is owned by ${other}, not ${db.role} \\(its owner can replace what the writer runs\\)`), `ALTER FUNCTION warden_records_append_only() OWNER TO ${w}`],
      [`ALTER FUNCTION warden_rate_now() OWNER TO ${o}`, finding(`function warden_rate_now is owned by ${other}`), `ALTER FUNCTION warden_rate_now() OWNER TO ${w}`],
    ]);
  });
});

test('PostgreSQL verify reports another superuser, a CREATEROLE role (PostgreSQL 15 and older), a member of pg_write_all_data and an event trigger a demoted superuser owns, not the bootstrap superuser', async () => {
  const cluster = await startPgCluster();
  try {
    await withStore('pgverifysuper', async (s, db, other) => {
      const o = pg.escapeIdentifier(other);
      const version = Number((await db.query('SHOW server_version_num')).rows[0]!.server_version_num);
      const list: Array<[string, RegExp, string]> = [
        [`ALTER ROLE ${o} SUPERUSER`, finding(`${other} is a superuser \\(only the bootstrap superuser and the owner ${db.role} may be\\)`), `ALTER ROLE ${o} NOSUPERUSER`],
        [`GRANT pg_write_all_data TO ${o}`, finding(`${other} is a member of pg_write_all_data \\(which writes every table\\)`), `REVOKE pg_write_all_data FROM ${o}`],
        [`GRANT pg_execute_server_program TO ${o}`, finding(`${other} is a member of pg_execute_server_program`), `REVOKE pg_execute_server_program FROM ${o}`],
        // An event trigger (pg-verify-schema-path.ts) stays its owner's when that superuser is demoted.
        [`CREATE FUNCTION et_fn() RETURNS event_trigger LANGUAGE plpgsql AS $f$ BEGIN END $f$; CREATE EVENT TRIGGER et_owned ON ddl_command_end EXECUTE FUNCTION et_fn();
          ALTER ROLE ${o} SUPERUSER; ALTER EVENT TRIGGER et_owned OWNER TO ${o}; ALTER ROLE ${o} NOSUPERUSER`,
          finding(`event trigger et_owned \\(owned by ${other}, calling et_fn\\(\\) owned by postgres\\) fires on every role's DDL, the store's migrations included, and its owner ${other} is not ${db.role}`),
          'DROP EVENT TRIGGER et_owned; DROP FUNCTION et_fn()'],
      ];
      if (version < 160000) {
        list.push([`ALTER ROLE ${o} CREATEROLE`, finding(`${other} has CREATEROLE and can make itself the owner ${db.role}`), `ALTER ROLE ${o} NOCREATEROLE`]);
      }
      await steps(s, db, list);
      // Trusted (a managed service's admin role): neither a superuser nor CREATEROLE is a finding.
      const admin: Array<[string, RegExp, string]> = [
        [`ALTER ROLE ${o} SUPERUSER`, finding(`${other} is a superuser .*; name it in transcripts\\.trusted_roles`), `ALTER ROLE ${o} NOSUPERUSER`],
        [`GRANT pg_write_all_data TO ${o}`, finding(`${other} is a member of pg_write_all_data .*; name it in transcripts\\.trusted_roles`), `REVOKE pg_write_all_data FROM ${o}`],
      ];
      if (version < 160000) {
        admin.push([`ALTER ROLE ${o} CREATEROLE`, finding(`${other} has CREATEROLE .*; name it in transcripts\\.trusted_roles`), `ALTER ROLE ${o} NOCREATEROLE`]);
      }
      await withTrusted(db, [`${other}_unrelated`, other], (t) => trustedSteps(s, t, db, admin));
      // BYPASSRLS writes nothing (row-level security is off on every store table): not a finding.
      await db.query(`ALTER ROLE ${o} BYPASSRLS`);
      assert.equal((await s.verify()).ok, true);
    }, cluster.url);
  } finally {
    await cluster.stop();
  }
});
