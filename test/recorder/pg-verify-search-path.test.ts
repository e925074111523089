/**
 * The PostgreSQL verify's event-trigger and search-path checks (pg-verify-schema-path.ts): an
 * enabled event trigger fires on every role's DDL (the store's migrations included), so it and its
 * function must be owned by the owner, a trusted role or the bootstrap superuser, with no other
 * member of either owner; a schema on the owner's search path (its role and database settings,
 * `$user` expanded), this session's, or the one a store function pins, must take CREATE from no
 * untrusted role, and one the path names that does not exist must not be creatable by one. All on
 * the test's own database and roles (the shared cluster); an event trigger owned by a demoted
 * superuser is in pg-verify-roles.test.ts's cluster of its own, and one whose (demoted, trusted)
 * owner has a member, or whose superuser owner has one (reported as a member of the superuser), in
 * pg-verify-superuser-members.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { steps, trustedSteps, withStore, withTrusted } from './pg-verify-steps.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const finding = (what: string) => new RegExp(`privileges differ from what the store creates: ${escape(what)}`);
const HINT = "; name it in transcripts.trusted_roles if it is your managed service's admin role";

test('PostgreSQL verify reports an enabled event trigger whose function another role owns or can act as, not a disabled one', async () => {
  await withStore('pgverifyevt', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    const team = pg.escapeIdentifier(`${other}_team`);
    const said = (fnOwner: string) => `event trigger et_audit (owned by postgres, calling et_fn() owned by ${fnOwner}) fires on every role's DDL, the store's migrations included`;
    await db.query(`CREATE FUNCTION et_fn() RETURNS event_trigger LANGUAGE plpgsql AS $f$ BEGIN END $f$`);
    await db.query(`CREATE ROLE ${team} NOLOGIN`);
    try {
      // The bootstrap superuser's event trigger and function are a clean setup.
      await db.query('CREATE EVENT TRIGGER et_audit ON ddl_command_start EXECUTE FUNCTION et_fn()');
      assert.equal((await s.verify()).ok, true);
      await steps(s, db, [
        [`ALTER FUNCTION et_fn() OWNER TO ${o}`, finding(`${said(other)}, and ${other} can replace what it runs${HINT}`), 'ALTER FUNCTION et_fn() OWNER TO postgres'],
      ]);
      await withTrusted(db, [other], async (t) => {
        await trustedSteps(s, t, db, [
          [`ALTER FUNCTION et_fn() OWNER TO ${o}`, finding(`${said(other)}, and ${other} can replace what it runs`), 'ALTER FUNCTION et_fn() OWNER TO postgres'],
        ]);
        // Trusted is the role, not its members.
        await steps(t, db, [
          [`ALTER FUNCTION et_fn() OWNER TO ${o}; GRANT ${o} TO ${team}`, finding(`${said(other)}, and ${other}_team can replace what it runs (a member of ${other})`),
            `REVOKE ${o} FROM ${team}; ALTER FUNCTION et_fn() OWNER TO postgres`],
        ]);
      });
      // Disabled, it fires for nobody.
      await db.query(`ALTER FUNCTION et_fn() OWNER TO ${o}; ALTER EVENT TRIGGER et_audit DISABLE`);
      assert.equal((await s.verify()).ok, true);
    } finally {
      await db.query('DROP EVENT TRIGGER IF EXISTS et_audit');
      await db.query(`DROP ROLE IF EXISTS ${team}`);
    }
  });
});

test('PostgreSQL verify reports a schema on the search path that an untrusted role can CREATE in or create, and names the store functions it reaches', async () => {
  await withStore('pgverifypath', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    const w = pg.escapeIdentifier(db.role);
    const d = pg.escapeIdentifier(db.dbName);
    const unpinned = 'warden_owner_dead, warden_rate_admit, warden_rate_lock, warden_rate_release_dead, warden_rate_take, warden_records_append_only';
    const statements = `the writer's statements and the store's functions that do not pin their search_path (warden_owner_dead, warden_rate_admit, warden_rate_lock, warden_rate_now, warden_rate_release_dead, warden_rate_take, warden_records_append_only)`;
    // A schema nobody else can CREATE in is a clean setup, wherever it is on the path.
    await db.query(`CREATE SCHEMA shadow; GRANT USAGE ON SCHEMA shadow TO ${o}; ALTER ROLE ${w} IN DATABASE ${d} SET search_path = shadow, public`);
    assert.equal((await s.verify()).ok, true);
    await db.query(`ALTER ROLE ${w} IN DATABASE ${d} RESET search_path`);
    await steps(s, db, [
      [`GRANT CREATE ON SCHEMA shadow TO ${o}; ALTER ROLE ${w} IN DATABASE ${d} SET search_path = shadow, public`,
        finding(`${other} can CREATE in schema shadow, on the search_path of ${db.role} before the store's schema public: a table, function or operator created there can shadow a name resolved by ${statements}${HINT}`),
        `ALTER ROLE ${w} IN DATABASE ${d} RESET search_path; REVOKE CREATE ON SCHEMA shadow FROM ${o}`],
      // After the store's schema, a function or operator with a closer argument type still wins.
      [`GRANT CREATE ON SCHEMA shadow TO PUBLIC; ALTER ROLE ${w} SET search_path = public, shadow`,
        /PUBLIC can CREATE in schema shadow, on the search_path of \S+ after the store's schema public: a function or operator created there can shadow a name resolved by the writer's statements .*\)$/,
        `ALTER ROLE ${w} RESET search_path; REVOKE CREATE ON SCHEMA shadow FROM PUBLIC`],
      // The database's setting applies when the role has none; the schema's owner can CREATE in it.
      [`ALTER SCHEMA shadow OWNER TO ${o}; ALTER DATABASE ${d} SET search_path = public, shadow`, finding(`${other} can CREATE in schema shadow, on the search_path of ${db.role} after`),
        `ALTER DATABASE ${d} RESET search_path; ALTER SCHEMA shadow OWNER TO postgres`],
      // "$user" (in the default path) is the owner's name: another role's schema of that name comes first.
      [`CREATE SCHEMA ${w} AUTHORIZATION ${o}`, finding(`${other} can CREATE in schema ${db.role}, on the search_path of ${db.role} before the store's schema public`), `DROP SCHEMA ${w}`],
      // Missing, it is created by whoever holds CREATE on the database.
      [`GRANT CREATE ON DATABASE ${d} TO ${o}`, finding(`schema ${db.role}, on the search_path of ${db.role} before the store's schema public, does not exist and ${other} can create it (CREATE on the database)`),
        `REVOKE CREATE ON DATABASE ${d} FROM ${o}`],
      // A store function that pins its search_path resolves through that one: the finding names it alone.
      [`GRANT CREATE ON SCHEMA shadow TO ${o}; ALTER FUNCTION warden_rate_now() SET search_path = shadow, public`,
        finding(`${other} can CREATE in schema shadow, on the search_path function warden_rate_now pins before the store's schema public: a table, function or operator created there can shadow a name resolved by function warden_rate_now${HINT}`),
        `ALTER FUNCTION warden_rate_now() RESET search_path; REVOKE CREATE ON SCHEMA shadow FROM ${o}`],
      // Pinned to a safe path, the function is moot for the session's path and is not listed.
      [`GRANT CREATE ON SCHEMA shadow TO ${o}; ALTER FUNCTION warden_rate_now() SET search_path = public; ALTER ROLE ${w} SET search_path = public, shadow`,
        new RegExp(escape(`${other} can CREATE in schema shadow, on the search_path of ${db.role} after the store's schema public: a function or operator created there can shadow a name resolved by the writer's statements and the store's functions that do not pin their search_path (${unpinned})${HINT}`)),
        `ALTER ROLE ${w} RESET search_path; ALTER FUNCTION warden_rate_now() RESET search_path; REVOKE CREATE ON SCHEMA shadow FROM ${o}`],
    ]);
    // A trusted role owning a schema on the path passes.
    await withTrusted(db, [other], (t) => trustedSteps(s, t, db, [
      [`ALTER SCHEMA shadow OWNER TO ${o}; ALTER ROLE ${w} SET search_path = shadow, public`, finding(`${other} can CREATE in schema shadow`),
        `ALTER ROLE ${w} RESET search_path; ALTER SCHEMA shadow OWNER TO postgres`],
    ]));
  });
});
