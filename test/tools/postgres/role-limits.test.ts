/**
 * statement_timeout was the only bound on a read's temporary files: one sort or hash join could
 * write them until it ran out, and PostgreSQL's own bound, temp_file_limit, is superuser-only to
 * set, so Warden cannot set it on its sessions. When a connection's read pool opens, Warden reads
 * the role's effective temp_file_limit and work_mem once (never per call) and logs them, warning
 * when temp files are unbounded. Against a real PostgreSQL: the default role is warned about, a
 * role a superuser gave a limit is not; an agent's session cannot raise the limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const conn: PostgresConnection = { name: 'db', type: 'postgres', url: 'env:DB', statement_timeout: 5_000, max_rows: 10, max_bytes: 65536, pool_size: 2 };
const read: RunOptions = { readOnly: true, maxRows: 10, timeoutMs: 5_000 };

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'rolelimits' });
});

after(async () => {
  await db?.query(`ALTER ROLE ${db.role} RESET temp_file_limit`).catch(() => undefined);
  await db?.drop();
});

type Line = { level: string; msg: string; data?: Record<string, unknown> };

/** The lines a connector logs over one read, once it is closed (its check's session is back by then). */
async function linesOfOneRead(): Promise<Line[]> {
  const lines: Line[] = [];
  const c = new PgConnector(conn, { resolve: async () => db.url }, (level, msg, data) => lines.push({ level, msg, ...(data ? { data } : {}) }));
  try {
    await c.run('SELECT 1', [], read);
  } finally {
    await c.close();
  }
  return lines;
}

test('a role without temp_file_limit is warned about once, when the read pool opens', async () => {
  const lines = await linesOfOneRead();
  const warn = lines.filter((l) => l.level === 'warn' && /temp_file_limit/.test(l.msg));
  assert.equal(warn.length, 1, JSON.stringify(lines));
  assert.match(warn[0]!.msg, /connection db: temp_file_limit is unlimited/);
  assert.equal(warn[0]!.data?.temp_file_limit, '-1');
  assert.equal(typeof warn[0]!.data?.work_mem, 'string');
  for (const l of lines) assert.ok(!JSON.stringify(l).includes(db.password), 'no secret in a log line');
});

test('a role a superuser gave a temp_file_limit is reported, not warned about; the agent\'s session cannot raise it', async () => {
  await db.query(`ALTER ROLE ${db.role} SET temp_file_limit = '64MB'`);
  try {
    const lines = await linesOfOneRead();
    assert.equal(lines.filter((l) => l.level === 'warn').length, 0, JSON.stringify(lines));
    const info = lines.find((l) => /temp_file_limit/.test(l.msg));
    assert.equal(info?.data?.temp_file_limit, '64MB', JSON.stringify(lines));
    const c = new PgConnector(conn, { resolve: async () => db.url });
    try {
      await assert.rejects(c.run("SELECT set_config('temp_file_limit', '-1', true)", [], read), /permission denied|WARDEN_BACKEND_ERROR/);
    } finally {
      await c.close();
    }
  } finally {
    await db.query(`ALTER ROLE ${db.role} RESET temp_file_limit`);
  }
});
