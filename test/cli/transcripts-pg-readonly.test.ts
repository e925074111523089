/**
 * Auditors verify and read a PostgreSQL transcript store with a role that holds only the GRANTs
 * docs/transcripts.md lists (CONNECT, USAGE on the schema, SELECT on the store's tables; not the
 * writer's rights): the real `warden transcripts` CLI, as a child process, with that role's URL.
 * Verify passes on an intact store and fails on a tampered one, list/show/head/export work, and
 * nothing is written (row counts and pg_stat tuple counters unchanged); row-level security that
 * hides rows from the auditor is said, not passed; a store the writer never migrated (or migrated
 * to another version) is a coded "migrate with a writer first" error that creates nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openPgStore } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION as V } from '../../src/recorder/pg-schema.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { limiter, SPAWN_LIMIT } from '../support/limit.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';
import { keyPem } from '../recorder/rollback-fixture.js';
import { approvalRequest } from '../recorder/fixtures.js';

/** At most SPAWN_LIMIT `warden` children at once across this file's tests (each has its own database and role, and they run side by side). */
const spawnGate = limiter(SPAWN_LIMIT);

const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };
const now = () => new Date().toISOString();

/** The auditor GRANTs as docs/transcripts.md prints them (the block after `<!-- auditor-grants -->`). */
function documentedGrants(db: TestDatabase, role: string): string[] {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'transcripts.md'), 'utf8');
  const block = /<!-- auditor-grants -->\s*```sql\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/transcripts.md holds the auditor GRANT block');
  return block.split('\n').map((l) => l.trim()).filter((l) => /^GRANT /.test(l))
    .map((l) => l.replace(/\bwarden_auditor\b/g, pg.escapeIdentifier(role)).replace(/ON DATABASE warden\b/, `ON DATABASE ${pg.escapeIdentifier(db.dbName)}`));
}

interface Audit {
  db: TestDatabase;
  /** The auditor role's URL (only the documented GRANTs). */
  url: string;
  role: string;
  sid: string;
  /** Run `warden transcripts ARGS` as the auditor; the config signs nothing (a public key). */
  warden(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Run `warden approvals ARGS` as the auditor. */
  approvals(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Run `warden transcripts ARGS` as the writer (the store's role), with the same config. */
  writer(...args: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** A store written by its writer (one session, one call, signed), and an auditor role with the documented GRANTs. */
async function withAudit(prefix: string, fn: (a: Audit) => Promise<void>, opts: { migrate?: boolean; approvals?: boolean; owner?: (writerRole: string) => string } = {}): Promise<void> {
  const db = await createTestDatabase({ prefix });
  const role = `${db.dbName}_audit`;
  const password = randomBytes(18).toString('base64url');
  const pem = keyPem();
  const owner = opts.owner ? `, owner: ${JSON.stringify(opts.owner(db.role))}` : '';
  const wd = writeWardenDir(`transcripts: { store: env:WARDEN_AUDIT_STORE, signing_key: file:pub.pem${owner} }\nconnections: {}\npolicies: []\n`, {});
  writeFileSync(join(wd.dir, 'pub.pem'), createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o600 });
  try {
    await db.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(db.role)}`);
    const sid = randomUUID();
    if (opts.migrate !== false) {
      const s = await openPgStore(db.url, { signer: createChainSigner(pem) });
      try {
        await s.openSession({ id: sid, principal, client: { name: 'auditor-test' }, transport: 'http', startedAt: now() });
        for (const n of [1, 2]) {
          const id = randomUUID();
          await s.recordIntent({ id, sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: `SELECT ${n}` }, factsSummary: 'read', facts: { n }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now() });
          await s.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[n]] }, masking: null, durationMs: 1, endedAt: now() });
        }
        await s.openSession({ id: randomUUID(), principal: { ...principal, subject: 'mallory' }, client: {}, transport: 'http', startedAt: now() });
        if (opts.approvals) {
          // One request past its expiry (still `pending` in its row: no writer has swept it) and one open.
          const call = JSON.stringify({ tool: 'query_database', connection: 'analytics', args: { sql: 'DELETE FROM t' } });
          await s.approvals.create(approvalRequest('a-due', '2026-01-01T10:00:00.000Z', { expiresAt: '2026-01-01T11:00:00.000Z', canonicalCall: call }));
          await s.approvals.create(approvalRequest('a-open', now(), { expiresAt: '2999-01-01T00:00:00.000Z', canonicalCall: call }));
        }
      } finally {
        await s.close();
      }
    }
    await db.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD ${pg.escapeLiteral(password)}`);
    for (const grant of documentedGrants(db, role)) {
      // A store never migrated has no tables to grant on: the auditor gets CONNECT and USAGE only.
      if (opts.migrate === false && / ON (?!DATABASE|SCHEMA)/.test(grant)) continue;
      await db.query(grant);
    }
    const u = new URL(db.url);
    u.username = encodeURIComponent(role);
    u.password = encodeURIComponent(password);
    const url = u.toString();
    const runAs = (store: string, ...args: string[]) => spawnGate(() => new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [WARDEN_BIN, ...args, '--config', wd.configPath], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', WARDEN_AUDIT_STORE: store } }, (e, out, err) => {
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err });
      });
    }));
    const run = (...args: string[]) => runAs(url, ...args);
    await fn({ db, url, role, sid, warden: (...args) => run('transcripts', ...args), approvals: (...args) => run('approvals', ...args), writer: (...args) => runAs(db.url, 'transcripts', ...args) });
  } finally {
    wd.cleanup();
    await db.drop();
    const server = new URL(db.adminUrl);
    server.pathname = '/postgres';
    const c = new pg.Client({ connectionString: server.toString() });
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`).finally(() => c.end());
  }
}

/**
 * Every table's row count and the tuple counters PostgreSQL keeps for it (inserts, updates and
 * deletes, rolled back or not), once the given role's backends have gone (a backend flushes its
 * counters as it exits). Why both: counts alone miss a write undone or a row replaced.
 */
async function writes(db: TestDatabase, role: string): Promise<Record<string, string>> {
  for (let i = 0; i < 200; i++) {
    const live = await db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]);
    if ((live.rows[0] as { n: number }).n === 0) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const c = await db.admin().connect();
  try {
    await c.query('SELECT pg_stat_clear_snapshot()');
    const tables = (await c.query(`SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY relname`)).rows as Array<Record<string, string>>;
    const out: Record<string, string> = {};
    for (const t of tables) {
      const n = (await c.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(String(t.relname))}`)).rows[0] as { n: number };
      out[String(t.relname)] = `rows ${n.n} ins ${t.n_tup_ins} upd ${t.n_tup_upd} del ${t.n_tup_del}`;
    }
    out['(tables)'] = tables.map((t) => t.relname).join(',');
    return out;
  } finally {
    c.release();
  }
}

// Each test has its own database, roles and config: side by side (warden() gates the children).
describe('auditor on a PostgreSQL transcript store', { concurrency: true }, () => {
  test('an auditor role with only SELECT verifies, lists, shows, heads and exports a PostgreSQL store, and writes nothing', async () => {
    await withAudit('pgaudit', async ({ db, role, sid, warden }) => {
      // The writer's own backends have ended (store closed): their counters are in.
      await writes(db, db.role);
      const before = await writes(db, role);
      // Independent reads: side by side.
      const [v, strict, range, list, show, head, exported, replay] = await Promise.all([
        warden('verify'), warden('verify', '--strict'), warden('verify', '--from', '2', '--to', '5'), warden('list', '--json'),
        warden('show', sid), warden('head', '--json'), warden('export'), warden('replay', sid),
      ]);
      assert.equal(v.code, 0, v.err);
      assert.match(v.out, /^transcript chain intact: 6 records \(head 6 [0-9a-f]{64}\); signed head 6 \(key /);
      assert.equal(strict.code, 0, strict.err);
      assert.equal(range.code, 0, range.err);
      assert.equal(list.code, 0, list.err);
      assert.deepEqual((JSON.parse(list.out) as Array<{ principal: { subject: string } }>).map((s) => s.principal.subject).sort(), ['alice', 'mallory']);
      assert.equal(show.code, 0, show.err);
      assert.match(show.out, /^calls +2$/m);
      assert.match(show.out, /query_database +analytics +allow/);
      assert.equal(head.code, 0, head.err);
      assert.deepEqual([JSON.parse(head.out).seq, JSON.parse(head.out).signatureValid], [6, true]);
      assert.equal(exported.code, 0, exported.err);
      assert.equal(exported.out.trim().split('\n').length, 6);
      assert.equal(replay.code, 0, replay.err);
      assert.deepEqual(await writes(db, role), before);
    });
  });

  test('an auditor role lists and shows approval requests read-only: a due request shown as expired, nothing written', async () => {
    await withAudit('pgauditappr', async ({ db, role, approvals }) => {
      await writes(db, db.role);
      const before = await writes(db, role);
      // Independent reads: side by side.
      const [list, expired, pending, show] = await Promise.all([
        approvals('list', '--json'), approvals('list', '--state', 'expired', '--json'), approvals('list', '--state', 'pending', '--json'), approvals('show', 'a-due'),
      ]);
      assert.equal(list.code, 0, list.err);
      assert.deepEqual((JSON.parse(list.out) as Array<{ id: string; state: string }>).map((a) => [a.id, a.state]).sort(), [['a-due', 'expired'], ['a-open', 'pending']]);
      assert.deepEqual((JSON.parse(expired.out) as Array<{ id: string }>).map((a) => a.id), ['a-due'], expired.err);
      assert.deepEqual((JSON.parse(pending.out) as Array<{ id: string }>).map((a) => a.id), ['a-open'], pending.err);
      assert.equal(show.code, 0, show.err);
      assert.match(show.out, /^approval a-due: expired$/m);
      assert.deepEqual(await writes(db, role), before, 'no row written: the expiry is shown, not settled');
      // Deciding writes: the auditor's role cannot.
      const approve = await approvals('approve', 'a-open', '--as', 'dana');
      assert.equal(approve.code, 1);
    }, { approvals: true });
  });

  test('an auditor role verifying a tampered PostgreSQL store is told where the chain broke', async () => {
    await withAudit('pgaudittamper', async ({ db, warden }) => {
      // The writer's guard may be off (whoever can alter the table can do that): verify still finds the edit.
      await db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
      await db.query(`UPDATE records SET body = replace(body, 'SELECT 2', 'SELECT 3') WHERE kind = 'call_intent' AND body LIKE '%SELECT 2%'`);
      const v = await warden('verify');
      assert.equal(v.code, 1);
      assert.match(v.err, /^transcript chain broken at record 4: hash mismatch: the record was edited$/m);
      assert.equal(v.out, '');
    });
  });

  test('an auditor verifying a PostgreSQL store is told of a write grant to others, a table given to another owner, and a changed index', async () => {
    await withAudit('pgauditpriv', async ({ db, role, warden }) => {
      // Undone, the table goes back with the owner's rights only: the auditor's SELECT is granted again.
      const steps: Array<[string, RegExp, string]> = [
        ['GRANT DELETE ON approvals TO PUBLIC', /privileges differ from what the store creates: PUBLIC holds DELETE on approvals \(only the owner .* may\)/, 'REVOKE DELETE ON approvals FROM PUBLIC'],
        [`ALTER TABLE sessions OWNER TO ${pg.escapeIdentifier(role)}`, new RegExp(`privileges differ from what the store creates: sessions is owned by ${role}, not ${db.role} \\(the owner of schema_version\\)`), `ALTER TABLE sessions OWNER TO ${pg.escapeIdentifier(db.role)}; GRANT SELECT ON sessions TO ${pg.escapeIdentifier(role)}`],
        ['DROP INDEX calls_session', /schema differs from what the store creates: calls index calls_session is missing/, 'CREATE INDEX calls_session ON calls (session_id, seq)'],
      ];
      for (const [tamper, reason, undo] of steps) {
        await db.query(tamper);
        const v = await warden('verify');
        assert.equal(v.code, 1, tamper);
        assert.match(v.err, reason, tamper);
        await db.query(undo);
        const again = await warden('verify');
        assert.equal(again.code, 0, `${undo}: ${again.err}`);
      }
    });
  });

  test('transcripts.owner names the writer\'s role: every table moved to another owner at once is a finding for the auditor and the writer', async () => {
    await Promise.all([withAudit('pgauditowner', async ({ db, role, warden, writer }) => {
      const [v, w] = await Promise.all([warden('verify'), writer('verify')]);
      assert.equal(v.code, 0, v.err);
      assert.equal(w.code, 0, w.err);
      // Every table to one new owner at once (the auditor's SELECT goes with them).
      const thief = `${db.dbName}_thief`;
      await db.query(`CREATE ROLE ${pg.escapeIdentifier(thief)} NOLOGIN`);
      try {
        await db.query(`REASSIGN OWNED BY ${pg.escapeIdentifier(db.role)} TO ${pg.escapeIdentifier(thief)}`);
        const moved = (await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, [thief])).rows[0] as { n: number };
        assert.ok(moved.n >= 10, `tables moved: ${moved.n}`);
        // Whoever moved them lets the writer go on writing (rights granted by the new owner).
        await db.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${pg.escapeIdentifier(db.role)}`);
        const reason = new RegExp(`privileges differ from what the store creates: schema_version is owned by ${thief}, not ${db.role} \\(transcripts\\.owner\\)`);
        const [audited, written] = await Promise.all([warden('verify'), writer('verify')]);
        assert.equal(audited.code, 1, audited.out);
        assert.match(audited.err, reason);
        assert.equal(written.code, 1, written.out);
        assert.match(written.err, reason);
      } finally {
        await db.query(`REASSIGN OWNED BY ${pg.escapeIdentifier(thief)} TO ${pg.escapeIdentifier(db.role)}; DROP OWNED BY ${pg.escapeIdentifier(thief)}; DROP ROLE ${pg.escapeIdentifier(thief)}`);
      }
      await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${pg.escapeIdentifier(role)}`);
      assert.equal((await warden('verify')).code, 0, 'ownership back: intact again');
    }, { owner: (writerRole) => writerRole }),
    // A name that is not the writer's role is a finding for the writer's verify too.
    withAudit('pgauditowner2', async ({ db, writer, warden }) => {
      await Promise.all([writer, warden].map(async (run) => {
        const r = await run('verify');
        assert.equal(r.code, 1, r.out);
        assert.match(r.err, new RegExp(`schema_version is owned by ${db.role}, not someone_else \\(transcripts\\.owner\\)`));
      }));
    }, { owner: () => 'someone_else' })]);
  });

  test('row-level security hiding rows from the auditor is said by verify and the readers, never passed as a partial view', async () => {
    await withAudit('pgauditrls', async ({ db, role, warden }) => {
      // The writer owns the tables, so this policy binds the auditor alone: mallory's session hidden.
      await db.query(`ALTER TABLE sessions ENABLE ROW LEVEL SECURITY`);
      await db.query(`CREATE POLICY hide_mallory ON sessions FOR SELECT TO ${pg.escapeIdentifier(role)} USING (subject IS DISTINCT FROM 'mallory')`);
      await Promise.all([['verify'], ['list'], ['verify', '--from', '1', '--to', '2']].map(async (args) => {
        const r = await warden(...args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
        assert.match(r.err, /row-level security on sessions hides rows from this role: it cannot read what it is denied \(WARDEN_TRANSCRIPT_UNAVAILABLE\)/, args.join(' '));
        assert.doesNotMatch(r.out, /alice|intact/);
      }));
      // A policy that hides nothing is still reported, by the schema check (the auditor reads pg_policy too).
      await db.query(`DROP POLICY hide_mallory ON sessions; ALTER TABLE sessions DISABLE ROW LEVEL SECURITY`);
      await db.query(`CREATE POLICY dormant ON calls FOR SELECT USING (true)`);
      const dormant = await warden('verify');
      assert.equal(dormant.code, 1);
      assert.match(dormant.err, /schema differs from what the store creates: row-level security policy dormant on calls/);
    });
  });

  test('an auditor on a store the writer never migrated, or migrated to another version, is told to migrate with a writer first, and nothing is created', async () => {
    await Promise.all([withAudit('pgauditempty', async ({ db, role, warden }) => {
      const before = await writes(db, role);
      await Promise.all([['verify'], ['list'], ['head']].map(async (sub) => {
        const r = await warden(...sub);
        assert.equal(r.code, 1);
        assert.match(r.err, /no Warden schema.*migrate with a writer first.*\(WARDEN_TRANSCRIPT_UNAVAILABLE\)/, sub.join(' '));
      }));
      assert.deepEqual(await writes(db, role), before);
      assert.equal(before['(tables)'], '');
    }, { migrate: false }),
    withAudit('pgauditold', async ({ db, warden }) => {
      await db.query('DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version)');
      const older = await warden('verify');
      assert.equal(older.code, 1);
      assert.match(older.err, new RegExp(`schema version ${V - 1}, older than the version ${V} this Warden reads: migrate with a writer first`));
      await db.query(`INSERT INTO schema_version (version, applied_at) VALUES (${V}, 'x'), (${V + 1}, 'x')`);
      const newer = await warden('list');
      assert.equal(newer.code, 1);
      assert.match(newer.err, new RegExp(`schema version ${V + 1}, newer than the version ${V} this Warden reads: upgrade Warden`));
    })]);
  });

  test('a read-only PostgreSQL store refuses writes (the server refuses them too) and the auditor cannot purge', async () => {
    await withAudit('pgauditro', async ({ url, warden }) => {
      const s = await openPgStore(url, { readOnly: true });
      try {
        await assert.rejects(s.openSession({ id: randomUUID(), principal, client: {}, transport: 'http', startedAt: now() }), /transcript store cannot write: read-only/);
        assert.equal((await s.listSessions()).length, 2);
      } finally {
        await s.close();
      }
      // purge writes: it opens the writer's way, which this role cannot.
      const purge = await warden('purge', '--before', '2020-01-01');
      assert.equal(purge.code, 1);
      assert.match(purge.err, /transcript store cannot open/);
    });
  });
});
