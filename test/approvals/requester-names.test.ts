/**
 * "Never the requester" by the requester's own person claims. Found: a request recorded the
 * requester's subject and delegation chain only, so an agent whose OIDC `sub` is opaque
 * (`00u1abc`) with `email: sam@corp.example` asked, and sam, signed in as a reviewer through
 * another issuer (another `sub`, the same email) or by the UI's local login / `--as` as his email,
 * was not recognised and approved his own agent's call. Now the request records the values of the
 * requester's `approvals.person_claims` (hash-chained in its `requested` record, and a column),
 * and a reviewer any of whose names is one of them is refused. Real local issuers, the real
 * verifier, the approval service every reviewer surface calls, SQLite and PostgreSQL stores, and
 * the real `warden transcripts verify`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { WARDEN_BIN } from '../support/repo.js';
import { approvalsCli, cliShow, FIX_DECISION, principalOf, reviewerCliSetup, twoIssuers } from './support.js';

let a: OidcIssuer;
let b: OidcIssuer;
const dbs: TestDatabase[] = [];
twoIssuers((x, y) => ((a = x), (b = y)), dbs);

const as = principalOf;
let n = 0;

type Gated = { granted: boolean; code?: string; approvalId?: string; message?: string };
function gate(svc: ApprovalService, principal: Principal, sql = `UPDATE orders SET total = ${++n}`): Promise<Gated> {
  return svc.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql }, decision: FIX_DECISION, factsSummary: sql, signal: new AbortController().signal,
  }) as Promise<Gated>;
}

async function request(svc: ApprovalService, principal: Principal, sql?: string): Promise<string> {
  const r = await gate(svc, principal, sql);
  assert.equal(r.code, 'WARDEN_APPROVAL_PENDING', r.message);
  return r.approvalId!;
}

/** Refused as the requester (the self-approval code and reason), in the decision and the queue; another dba still approves. */
async function refusedAsRequester(svc: ApprovalService, id: string, reviewer: Principal): Promise<void> {
  await assert.rejects(svc.approve(id, reviewer), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /requested this call/.test(e.message));
  await assert.rejects(svc.deny(id, reviewer), /requested this call/);
  assert.equal((await svc.queueFor(reviewer)).find((e) => e.view.id === id)?.refused.approve?.reason, 'own_request');
  assert.equal((await svc.get(id))?.state, 'pending');
  assert.equal((await svc.approve(id, await as(a, { sub: 'dana', email: 'dana@corp.example', groups: ['dba'] }))).state, 'approved');
}

/** The scenarios, against one store: sam's agent has the opaque sub 00u1abc and sam's email. */
async function scenarios(tables: ApprovalStore): Promise<string> {
  const svc = createApprovalService(tables, { pollMs: 5 });
  const agent = await as(a, { sub: '00u1abc', email: 'sam@corp.example', groups: ['sre'] });
  // sam through issuer B (another sub, his email spelled otherwise): refused.
  const first = await request(svc, agent);
  await refusedAsRequester(svc, first, await as(b, { sub: '00u7xyz', email: 'Sam@Corp.Example', groups: ['dba'] }));
  // sam by the UI's local login or `warden approvals approve --as sam@corp.example` (no claims): refused.
  await refusedAsRequester(svc, await request(svc, agent), { subject: 'sam@corp.example', groups: ['dba'], claims: {}, authMethod: 'local' });
  // A reviewer with another email approves, and the call runs on it.
  const sql = `UPDATE orders SET total = ${++n}`;
  const other = await request(svc, agent, sql);
  assert.equal((await svc.approve(other, await as(b, { sub: '00u8kim', email: 'kim@corp.example', groups: ['dba'] }))).state, 'approved');
  assert.equal((await gate(svc, agent, sql)).granted, true);
  // The agent's email changed (now pat's): a request recorded under sam's email does not serve it,
  // and pat, approving that one, approved nothing this agent now runs.
  const sqlTwo = `UPDATE orders SET total = ${++n}`;
  const old = await request(svc, agent, sqlTwo);
  const pat = await as(b, { sub: '00u9pat', email: 'pat@corp.example', groups: ['dba'] });
  assert.equal((await svc.approve(old, pat)).state, 'approved');
  const moved = await as(a, { sub: '00u1abc', email: 'pat@corp.example', groups: ['sre'] });
  const again = await gate(svc, moved, sqlTwo);
  assert.equal(again.granted, false, 'the request recorded under the old email was used');
  assert.equal(again.code, 'WARDEN_APPROVAL_PENDING');
  assert.notEqual(again.approvalId, old);
  await refusedAsRequester(svc, again.approvalId!, pat);
  // The recorded names are not shown: not to the requester (approval_status) nor in the views the
  // queue, the CLI and webhooks send.
  for (const view of [await svc.statusFor(agent, first), await svc.get(first), ...(await svc.list({}))]) {
    assert.ok(view);
    assert.doesNotMatch(JSON.stringify(view), /sam@corp\.example|pat@corp\.example|requester_?names/i);
  }
  return first;
}

test('SQLite: a reviewer whose email is the requester\'s email is the requester; another email approves; verify checks the recorded names', async (t) => {
  const { issuer, dir } = await reviewerCliSetup();
  t.after(async () => {
    await issuer.stop();
    dir.cleanup();
  });
  const store = openSqliteStore(dir.dbPath);
  let closed = false;
  t.after(() => (closed ? undefined : store.close().catch(() => undefined)));
  const first = await scenarios(store.approvals);
  assert.equal((await store.verify()).ok, true);
  await store.close();
  closed = true;
  const ok = await verifyCli(dir.configPath);
  assert.equal(ok.code, 0, ok.out + ok.err);
  // The row no longer says whose email asked (self-approval open again): the records say otherwise.
  const raw = openSqliteStore(dir.dbPath);
  raw.db.prepare('UPDATE approvals SET requester_names = NULL WHERE id = ?').run(first);
  await raw.close();
  const bad = await verifyCli(dir.configPath);
  assert.equal(bad.code, 1, bad.out + bad.err);
  assert.match(bad.out + bad.err, /differs from its records \(requester_names\)/);
});

test('PostgreSQL: the same, with the names in the shared tables', async () => {
  const db = await createTestDatabase({ prefix: 'reqnames' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const store = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    const first = await scenarios(store.approvals);
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approvals SET requester_names = '["kim@corp.example"]' WHERE id = $1`, [first]);
    const broken = await store.verify();
    assert.equal(broken.ok, false);
    assert.match(broken.firstBroken?.reason ?? '', /differs from its records \(requester_names\)/);
  } finally {
    await store.close();
  }
});

test('approvals.person_claims: [] records no names and compares subjects only', async () => {
  const { issuer, dir } = await reviewerCliSetup();
  const store = openSqliteStore(dir.dbPath);
  try {
    const svc = createApprovalService(store.approvals, { pollMs: 5, personClaims: [] });
    const id = await request(svc, await as(a, { sub: '00u1abc', email: 'sam@corp.example', groups: ['sre'] }));
    assert.equal((await svc.approve(id, await as(b, { sub: '00u7xyz', email: 'sam@corp.example', groups: ['dba'] }))).state, 'approved');
    assert.equal(store.db.prepare('SELECT requester_names FROM approvals WHERE id = ?').pluck().get(id), null);
  } finally {
    await store.close();
    await issuer.stop();
    dir.cleanup();
  }
});

test('names are capped: at most 16 of at most 320 characters, else the call is refused and nothing is asked', async () => {
  const { issuer, dir } = await reviewerCliSetup();
  const store = openSqliteStore(dir.dbPath);
  try {
    const svc = createApprovalService(store.approvals, { pollMs: 5, personClaims: ['email', 'emails'] });
    const long = await gate(svc, await as(a, { sub: '00u1abc', email: `${'s'.repeat(321)}@corp.example`, groups: ['sre'] }));
    assert.equal(long.granted, false);
    assert.equal(long.code, 'WARDEN_DENIED');
    assert.match(long.message ?? '', /longer than 320 characters/);
    const many = Array.from({ length: 17 }, (_, i) => `sam${i}@corp.example`);
    const tooMany = await gate(svc, await as(a, { sub: '00u1abc', emails: many, groups: ['sre'] }));
    assert.equal(tooMany.code, 'WARDEN_DENIED');
    assert.match(tooMany.message ?? '', /more than 16 names/);
    assert.deepEqual(await store.approvals.list({}), [], 'a refused call asks no reviewer');
    // 16 names of 320 characters are recorded, and each refuses.
    const edge = `${'s'.repeat(320 - '@corp.example'.length)}@corp.example`;
    const sixteen = [...many.slice(0, 15), edge];
    const id = await request(svc, await as(a, { sub: '00u1abc', emails: sixteen, groups: ['sre'] }));
    await refusedAsRequester(svc, id, { subject: edge.toUpperCase(), groups: ['dba'], claims: {}, authMethod: 'local' });
    const id2 = await request(svc, await as(a, { sub: '00u1abc', emails: sixteen, groups: ['sre'] }));
    await refusedAsRequester(svc, id2, await as(b, { sub: '00u7xyz', email: 'sam14@corp.example', groups: ['dba'] }));
  } finally {
    await store.close();
    await issuer.stop();
    dir.cleanup();
  }
});

test('warden approvals approve --as / --token: sam by his email is refused for his agent\'s request (opaque sub); dana approves', async () => {
  const { issuer, dir } = await reviewerCliSetup();
  try {
    // The agent signs in through the configured issuer as 00u1abc with sam's email (rule orders-fix of the config).
    const store = openSqliteStore(dir.dbPath);
    let id: string;
    try {
      const sql = 'UPDATE orders SET total = 5 WHERE id = 5';
      const r = (await createApprovalService(store.approvals).gate({
        callId: 'c-cli', sessionId: 's1', principal: await as(issuer, { sub: '00u1abc', email: 'sam@corp.example', groups: ['sre'] }), tool: 'query_database', connection: 'db',
        canonicalArgs: { connection: 'db', sql }, decision: { ...FIX_DECISION, ruleIds: ['orders-fix'], approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 30 * 60_000, wait: 0, ruleId: 'orders-fix' } },
        factsSummary: sql, signal: new AbortController().signal,
      })) as Gated;
      assert.equal(r.code, 'WARDEN_APPROVAL_PENDING', r.message);
      id = r.approvalId!;
    } finally {
      await store.close();
    }
    const asSam = await approvalsCli(['approve', id, '--as', 'Sam@corp.example', '--groups', 'dba', '--config', dir.configPath]);
    assert.equal(asSam.code, 1, asSam.out + asSam.err);
    assert.match(asSam.err, /WARDEN_DENIED.*Sam@corp\.example requested this call \(as sam@corp\.example, request by 00u1abc\)/s);
    const token = await issuer.mint({ sub: '00u7xyz', email: 'sam@corp.example', groups: ['dba'] });
    const bySam = await approvalsCli(['approve', id, '--token', token, '--config', dir.configPath]);
    assert.equal(bySam.code, 1, bySam.out + bySam.err);
    assert.match(bySam.err, /WARDEN_DENIED.*00u7xyz requested this call \(as sam@corp\.example, by the name sam@corp\.example its token carries/s);
    assert.equal((await cliShow(dir.configPath, id)).state, 'pending');
    const dana = await approvalsCli(['approve', id, '--as', 'dana@corp.example', '--groups', 'dba', '--config', dir.configPath]);
    assert.equal(dana.code, 0, dana.out + dana.err);
    assert.equal((await cliShow(dir.configPath, id)).state, 'approved');
  } finally {
    await issuer.stop();
    dir.cleanup();
  }
});

/** `warden transcripts verify --config configPath` through the real CLI. */
function verifyCli(configPath: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [WARDEN_BIN, 'transcripts', 'verify', '--config', configPath], { env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out, err }));
  });
}
