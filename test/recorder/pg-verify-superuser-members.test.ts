/**
 * The PostgreSQL verify's superuser-membership check (pg-verify-superusers.ts): a role that can
 * reach a superuser role through pg_auth_members (directly or through a chain, inheriting or not:
 * on PostgreSQL 15 and older every member may SET ROLE to it) acts as a superuser, so it is a
 * finding naming the member, the superuser and the chain; the owner's own members stay "a member
 * of the owner", even when the owner is (or reaches) a superuser. Memberships in superusers and
 * superusers are cluster-wide, so the test starts a cluster of its own (on the shared one they
 * would fail every other test's verify). Only PostgreSQL 15 runs here: the 16+ query (grants with
 * the SET or INHERIT option) is not exercised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPgCluster } from '../support/pg-cluster.js';
import { steps, trustedSteps, withStore, withTrusted } from './pg-verify-steps.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const finding = (what: string) => new RegExp(`privileges differ from what the store creates: ${escape(what)}`);
const HINT = "; name it in transcripts.trusted_roles if it is your managed service's admin role";
const acts = (top: string) => `(it can act as ${top}, a superuser)${HINT}`;

test('PostgreSQL verify reports a role that can reach a superuser role through memberships, with the chain; not a trusted one, and not the owner\'s members twice', async () => {
  const cluster = await startPgCluster();
  try {
    await withStore('pgverifysumem', async (s, db, other) => {
      const o = pg.escapeIdentifier(other);
      const w = pg.escapeIdentifier(db.role);
      const boss = `${other}_boss`;
      const mid = `${other}_mid`;
      const team = `${other}_team`;
      const [b, m, t] = [boss, mid, team].map((r) => pg.escapeIdentifier(r));
      await db.query(`CREATE ROLE ${m} NOLOGIN; CREATE ROLE ${t} NOLOGIN`);
      try {
        // A member of the bootstrap superuser: the role verify accepts as an owner-like one is the
        // one whose members are the danger.
        await steps(s, db, [
          [`GRANT postgres TO ${o}`, finding(`${other} is a member of the superuser postgres ${acts('postgres')}`), `REVOKE postgres FROM ${o}`],
          // Not inheriting changes nothing on PostgreSQL 15: SET ROLE still works.
          [`ALTER ROLE ${o} NOINHERIT; GRANT postgres TO ${o}`, finding(`${other} is a member of the superuser postgres`), `REVOKE postgres FROM ${o}; ALTER ROLE ${o} INHERIT`],
          // Before the event trigger check would name the member of its owner.
          [`CREATE FUNCTION et_fn() RETURNS event_trigger LANGUAGE plpgsql AS $f$ BEGIN END $f$;
            CREATE EVENT TRIGGER et_audit ON ddl_command_start EXECUTE FUNCTION et_fn(); GRANT postgres TO ${o}`,
            finding(`${other} is a member of the superuser postgres`), `REVOKE postgres FROM ${o}; DROP EVENT TRIGGER et_audit; DROP FUNCTION et_fn()`],
        ]);
        await db.query(`CREATE ROLE ${b} NOLOGIN SUPERUSER`);
        // boss is another superuser: trusted (a managed service's admin role), it is no finding itself.
        await withTrusted(db, [boss], async (tb) => {
          assert.equal((await tb.verify()).ok, true, JSON.stringify((await tb.verify()).firstBroken));
          await steps(tb, db, [
            [`GRANT ${b} TO ${o}`, finding(`${other} is a member of the superuser ${boss} ${acts(boss)}`), `REVOKE ${b} FROM ${o}`],
            // A chain names its farthest member and every role on the way.
            [`GRANT ${b} TO ${m}; GRANT ${m} TO ${o}`, finding(`${other} is a member of the superuser ${boss} through ${other} -> ${mid} -> ${boss} ${acts(boss)}`),
              `REVOKE ${m} FROM ${o}; REVOKE ${b} FROM ${m}`],
            // The owner reaching a superuser is the owner's own rights; its members are members of the owner.
            [`GRANT ${b} TO ${w}; GRANT ${w} TO ${o}`, finding(`${other} is a member of the owner ${db.role} (it writes as the owner)${HINT}`), `REVOKE ${w} FROM ${o}`],
          ]);
          // The owner a member of a superuser: nobody else reaches it, a clean setup.
          assert.equal((await tb.verify()).ok, true, JSON.stringify((await tb.verify()).firstBroken));
          await db.query(`REVOKE ${b} FROM ${w}`);
          // The owner a superuser: its members are reported once, as members of the owner.
          await db.query(`ALTER ROLE ${w} SUPERUSER`);
          try {
            await steps(tb, db, [
              [`GRANT ${w} TO ${o}`, finding(`${other} is a member of the owner ${db.role} (it writes as the owner)${HINT}`), `REVOKE ${w} FROM ${o}`],
            ]);
          } finally {
            await db.query(`ALTER ROLE ${w} NOSUPERUSER`);
          }
        });
        // A trusted member of a superuser passes; the same grant fails for an auditor trusting only boss.
        await withTrusted(db, [boss], async (tb) => {
          await withTrusted(db, [boss, other], async (to) => {
            await trustedSteps(tb, to, db, [
              [`GRANT ${b} TO ${o}`, finding(`${other} is a member of the superuser ${boss}`), `REVOKE ${b} FROM ${o}`],
            ]);
            // A trusted role's members are not trusted: the chain through it is reported.
            await steps(to, db, [
              [`GRANT ${b} TO ${o}; GRANT ${o} TO ${t}`, finding(`${team} is a member of the superuser ${boss} through ${team} -> ${other} -> ${boss} ${acts(boss)}`),
                `REVOKE ${o} FROM ${t}; REVOKE ${b} FROM ${o}`],
            ]);
          });
        });
        // An event trigger owned by a trusted, demoted superuser: its owner's members are still the
        // event trigger check's (no superuser is reached).
        await db.query(`ALTER ROLE ${o} SUPERUSER; CREATE FUNCTION et_fn() RETURNS event_trigger LANGUAGE plpgsql AS $f$ BEGIN END $f$;
          CREATE EVENT TRIGGER et_owned ON ddl_command_end EXECUTE FUNCTION et_fn(); ALTER EVENT TRIGGER et_owned OWNER TO ${o}; ALTER ROLE ${o} NOSUPERUSER`);
        await withTrusted(db, [boss, other], async (to) => {
          assert.equal((await to.verify()).ok, true, JSON.stringify((await to.verify()).firstBroken));
          await steps(to, db, [
            [`GRANT ${o} TO ${t}`, finding(`event trigger et_owned (owned by ${other}, calling et_fn() owned by postgres) fires on every role's DDL, the store's migrations included, and ${team} can act as its owner ${other} (a member of it)`),
              `REVOKE ${o} FROM ${t}`],
          ]);
        });
        await db.query('DROP EVENT TRIGGER et_owned; DROP FUNCTION et_fn()');
      } finally {
        await db.query(`DROP ROLE IF EXISTS ${t}; DROP ROLE IF EXISTS ${m}; DROP ROLE IF EXISTS ${b}`);
      }
    }, cluster.url);
  } finally {
    await cluster.stop();
  }
});
