/**
 * Red-team: a requester confirmation outliving a policy change. A call under `confirm: requester`
 * shows the user the confirmation form; while the form is open, an operator reloads the policy;
 * the user then says yes. The call was decided under the old policy: it must be judged again
 * under the live one after the user's yes and before that yes is used. A reload that now denies
 * it (a freeze, a narrowed grant) or asks for an approval the user's yes does not give (a
 * reviewer) refuses it, and the confirmation ends `voided` with the refusal as its reason; a reload that still allows it on the same terms runs it
 * once, under the live policy. Real `warden serve` over stdio, a real MCP client that declares
 * elicitation and answers the form (it writes the new policy and waits for the reload first),
 * real PostgreSQL.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';
import { approvalEvents, approvalsCli, refusedOutcome, until, shopConfig } from '../approvals/support.js';

const CONFIG = shopConfig();

const BASE = `
rules:
  - id: notes-confirm
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [insert], write: [public.notes], read: [public.notes] }
    approval: { confirm: requester }
`;

let db: TestDatabase;
let dir: WardenDir;
let client: Client;
let serverPid: number;
let stderr = '';
/** What the user does while the form is open, before answering yes. */
let whileOpen: (message: string) => Promise<void> = async () => undefined;
const asked: string[] = [];

type CallResult = { isError: boolean; text: string; error?: { code: string; approval_id?: string } };
type View = { id: string; state: string; decisions: { decision: string; comment: string | null; auth: string; reviewer: string }[]; voided?: { code: string; message: string; rule_ids: string[] } };

function call(sql: string): Promise<CallResult> {
  return client.callTool({ name: 'query_database', arguments: { connection: 'shop', sql } }, { timeout: 60_000 }).then((r) => ({
    isError: r.isError === true,
    text: (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n'),
    error: (r.structuredContent as { error?: { code: string; approval_id?: string } } | undefined)?.error,
  }));
}

const reloads = () => (stderr.match(/policy reloaded/g) ?? []).length;

/**
 * Write (or, with null, remove) a policy file, send the server SIGHUP, and wait until it reports
 * the reload. SIGHUP, the operator's reload, applies at once; left to the file watcher, a change
 * that drops a deny or adds an allow is held about two seconds first (policy-watch.ts), and what
 * is tested here is the live policy at the yes, not the watcher. (The watcher still sees the
 * change; its own reload then finds the same policy and logs no second "policy reloaded".)
 */
async function reloadWith(file: string, text: string | null): Promise<void> {
  const seen = reloads();
  const path = join(dir.dir, 'policies', file);
  if (text === null) rmSync(path, { force: true });
  else writeFileSync(path, text);
  process.kill(serverPid, 'SIGHUP');
  await until(() => (reloads() > seen ? true : undefined), 15_000, `the policy reload (${file})`);
}

const notes = async () => (await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).rows.map((r) => r.body);

async function approval(id: string): Promise<View> {
  const shown = await approvalsCli(['show', id, '--json', '--config', dir.configPath]);
  assert.equal(shown.code, 0, shown.err);
  return JSON.parse(shown.out) as View;
}

before(async () => {
  db = await createTestDatabase({ prefix: 'apprcr' });
  await db.query(`CREATE TABLE notes (id serial PRIMARY KEY, body text); CREATE TABLE refunds (id serial PRIMARY KEY, body text);`);
  for (const t of ['notes', 'refunds']) await db.query(`ALTER TABLE ${t} OWNER TO ${db.role}`);
  await db.query(`GRANT USAGE ON SEQUENCE notes_id_seq TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'base.yaml': BASE });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WARDEN_BIN, 'serve', '--config', dir.configPath],
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'info', TEST_DATABASE_URL: db.url },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: 'confirm-reload-test', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', async (req) => {
    const p = req.params as { message: string };
    asked.push(p.message);
    await whileOpen(p.message);
    return { action: 'accept', content: { confirm: true } } as never;
  });
  await client.connect(transport);
  serverPid = transport.pid!;
});

after(async () => {
  await client?.close();
  await db?.drop();
  dir?.cleanup();
});

// Each case starts from the base policy alone (a case's reload is undone before the next).
beforeEach(async () => {
  whileOpen = async () => undefined;
  asked.length = 0;
  for (const f of ['freeze.yaml', 'extra.yaml']) if (existsSync(join(dir.dir, 'policies', f))) await reloadWith(f, null);
  await reloadWith('base.yaml', `${BASE}# ${Date.now()}\n`);
});

/** The refusal every "changed while the form was open" case must show. */
async function assertRefused(r: CallResult, code: string, body: string, why: RegExp): Promise<void> {
  assert.equal(asked.length, 1, 'the form was shown once');
  assert.equal(r.isError, true, `the call ran under the old policy: ${r.text}`);
  assert.equal(r.error?.code, code, r.text);
  assert.match(r.text, why);
  assert.ok(!(await notes()).includes(body), 'nothing was written');
  // The user's yes is recorded, and the confirmation is voided by the policy change (never
  // usable again), with the live refusal as its reason: the same end as a reviewer approval.
  const id = r.error?.approval_id;
  assert.ok(id, `the refusal names the confirmation request: ${r.text}`);
  // Two independent reads of the store (CLI children): side by side; the events are read once the outcome is in, as before.
  const [v] = await Promise.all([approval(id), refusedOutcome(dir.configPath, body, code)]);
  assert.equal(v.state, 'voided', JSON.stringify(v));
  assert.deepEqual(v.decisions.map((d) => [d.decision, d.auth, d.reviewer]), [['approve', 'elicitation', 'sam']], JSON.stringify(v.decisions));
  assert.equal(v.voided?.code, code, JSON.stringify(v));
  assert.match(v.voided?.message ?? '', why);
  // The transcript records the call as refused with that code, never as run (refusedOutcome above), and the request voided.
  const events = await approvalEvents(dir.configPath, id);
  assert.deepEqual(events.map((e) => e.decision ?? e.event), ['requested', 'approve', 'approved', 'voided'], JSON.stringify(events));
  assert.equal((events.at(-1)!.reason as { code: string }).code, code);
}

test('(a) a deny added while the confirmation form is open: the yes does not run the call', async () => {
  const body = 'during-freeze';
  whileOpen = () =>
    reloadWith('freeze.yaml', `
rules:
  - id: notes-freeze
    effect: deny
    tool: query_database
    sql: { write: [public.notes] }
    reason: incident freeze on notes
`);
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  await assertRefused(r, 'WARDEN_DENIED', body, /policy was reloaded.*now denies it/s);
  assert.match(r.text, /incident freeze on notes|notes-freeze/);
});

test('(b) the grant narrowed while the confirmation form is open: the yes does not run the call', async () => {
  const body = 'after-narrowing';
  whileOpen = () => reloadWith('base.yaml', BASE.replace('write: [public.notes], read: [public.notes]', 'write: [public.refunds], read: [public.refunds]'));
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  await assertRefused(r, 'WARDEN_DENIED', body, /policy was reloaded.*now denies it/s);
});

test('(c) a reload that still allows the call on the same confirmation terms: it runs once, under the live policy', async () => {
  const body = 'still-allowed';
  // An unrelated rule and a column mask on notes.body: the call stays allowed under the same rule,
  // and its RETURNING rows are masked by the live policy, not the one it was decided under.
  whileOpen = () =>
    reloadWith('extra.yaml', `
masking:
  columns:
    - { column: public.notes.body, with: redact }
rules:
  - id: refunds-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [select], read: [public.refunds] }
`);
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}') RETURNING id, body`);
  assert.equal(asked.length, 1, 'the form was shown once');
  assert.equal(r.isError, false, r.text);
  assert.equal((await notes()).filter((b) => b === body).length, 1, 'the call ran exactly once');
  assert.ok(!r.text.includes(body), `the RETURNING rows are masked under the live policy: ${r.text}`);
  const id = (await approvalsCli(['list', '--json', '--config', dir.configPath])).out;
  const mine = (JSON.parse(id) as (View & { call?: { args: { sql: string } } })[]).filter((v) => v.call?.args.sql.includes(body));
  assert.equal(mine.length, 1, JSON.stringify(mine));
  assert.equal(mine[0]!.state, 'used', JSON.stringify(mine[0]));
});

test('(d) a reload that now also needs a reviewer (another rule): refused, the yes is not enough', async () => {
  const body = 'needs-reviewer';
  whileOpen = () =>
    reloadWith('extra.yaml', `
rules:
  - id: notes-review
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [insert], write: [public.notes], read: [public.notes] }
    approval: { reviewers: { groups: [dba] }, wait: 1s }
`);
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  await assertRefused(r, 'WARDEN_APPROVAL_DENIED', body, /now also needs the approval of rule notes-review/);
});

test('(d2) a reload that makes the same rule ask a reviewer too: refused, the yes is not enough', async () => {
  const body = 'same-rule-reviewer';
  whileOpen = () => reloadWith('base.yaml', BASE.replace('approval: { confirm: requester }', 'approval: { confirm: requester, reviewers: { groups: [dba] }, wait: 1s }'));
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  await assertRefused(r, 'WARDEN_APPROVAL_DENIED', body, /policy was reloaded.*notes-confirm/s);
  // Calling again asks anew under the live terms (the refused confirmation holds no cooldown):
  // the form once more, then a reviewer, who is not there within the 1 s wait.
  whileOpen = async () => undefined;
  const again = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  assert.equal(asked.length, 2, 'the form was shown again');
  assert.equal(again.error?.code, 'WARDEN_APPROVAL_PENDING', again.text);
  assert.ok(!(await notes()).includes(body), 'nothing was written');
});

test('(d3) a reload that makes the rule ask a reviewer instead of the requester: refused, the yes is not enough', async () => {
  const body = 'reviewer-instead';
  whileOpen = () => reloadWith('base.yaml', BASE.replace('approval: { confirm: requester }', 'approval: { reviewers: { groups: [dba] }, wait: 1s }'));
  const r = await call(`INSERT INTO notes (body) VALUES ('${body}')`);
  await assertRefused(r, 'WARDEN_APPROVAL_DENIED', body, /policy was reloaded.*notes-confirm/s);
});
