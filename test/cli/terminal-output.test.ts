/**
 * Red team: what the real `warden` bin prints to a reviewer's terminal. JSON.stringify escapes
 * C0 controls but leaves DEL, C1 controls (U+009B is a CSI to terminals that take 8-bit
 * controls), bidi overrides, line separators and tag characters raw, so `--json` documents and
 * `transcripts export` carried agent text that could reorder or hide what the reviewer reads; and
 * an error quoting a requester's name (the self-approval refusal) wrote it to stderr as it was.
 * Now JSON output has every hidden character as a \uXXXX escape (the same values once parsed)
 * and every line the CLI writes shows hidden characters escaped. Look-alike letters (a Cyrillic
 * ѕ in `uѕers`) were flagged by `approvals show` but not by `transcripts show|replay`; now they are.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { canonicalCall } from '../../src/approvals/index.js';
import { WARDEN_BIN } from '../support/repo.js';
import { cliStoreDir } from '../support/cli-store-dir.js';
import { rawHidden } from '../support/hidden-chars.js';

const SUBJECT = 'agent-x\u202e';
const CLIENT = 'claude\x9b2J\x7f';
const SQL = 'SELECT 1 \0\ud800 \x9b8m-- hidden\u2028 OR true \u{E0041}\u200b\x1b]52;c;ZWNobyBwd25lZA==\x07';
const SUMMARY = 'SELECT t\x9b8m OR true';

const scratch = cliStoreDir('warden-cli-terminal-');
const dir = scratch.dir;

before(async () => {
  const store = scratch.open();
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 's1', principal: { subject: SUBJECT, groups: ['agents'], authMethod: 'stdio' }, client: { name: CLIENT, version: '1' }, transport: 'stdio', startedAt: at });
  await store.recordIntent({ id: 'c1', sessionId: 's1', tool: 'query_database', connection: 'shop', args: { sql: SQL }, factsSummary: SUMMARY, facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  // Look-alike letters: a Cyrillic а in the subject, a Cyrillic ѕ in the table name.
  await store.openSession({ id: 's2', principal: { subject: '\u0430dmin', groups: [], authMethod: 'stdio' }, client: { name: 'c', version: '1' }, transport: 'stdio', startedAt: at });
  await store.recordIntent({ id: 'c2', sessionId: 's2', tool: 'query_database', connection: 'shop', args: { sql: 'DELETE FROM u\u0455ers' }, factsSummary: 'DELETE u\u0455ers', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  // A statement whose tail sits behind 200 spaces (no parsed summary: the arguments are shown).
  await store.recordIntent({ id: 'c3', sessionId: 's2', tool: 'query_database', connection: 'shop', args: { sql: `SELECT 1${' '.repeat(200)}OR true` }, factsSummary: null, facts: null, decision: 'deny', ruleIds: [], policyVersion: 'v1', startedAt: at });
  const call = canonicalCall('query_database', 'shop', { connection: 'shop', sql: SQL });
  await store.approvals.create({
    id: 'a1', requester: SUBJECT, requesterGroups: ['agents'], requesterAuth: 'stdio', tool: 'query_database', connection: 'shop', canonicalCall: call.text, callHash: call.hash,
    summary: SUMMARY, ruleIds: ['r'], approvalRule: 'r', approvalsRequired: 1, reviewers: { groups: ['dba'] }, confirm: null,
    callId: 'c1', sessionId: 's1', createdAt: at, expiresAt: '2999-01-01T00:00:00.000Z',
  });
  await store.close();
});

function warden(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [WARDEN_BIN, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--json documents and the export: no raw hidden character, the exact values once parsed', () => {
  const docs: [string, string[], (out: string) => unknown[]][] = [
    ['transcripts list --json', ['transcripts', 'list', '--json'], (o) => JSON.parse(o) as unknown[]],
    ['transcripts show --json', ['transcripts', 'show', 's1', '--json'], (o) => [JSON.parse(o)]],
    ['transcripts replay --json', ['transcripts', 'replay', 's1', '--json'], (o) => [JSON.parse(o)]],
    ['transcripts export', ['transcripts', 'export'], (o) => o.trim().split('\n').map((l) => JSON.parse(l) as unknown)],
    ['approvals list --json', ['approvals', 'list', '--json'], (o) => JSON.parse(o) as unknown[]],
    ['approvals show --json', ['approvals', 'show', 'a1', '--json'], (o) => [JSON.parse(o)]],
  ];
  for (const [name, args, parse] of docs) {
    const r = warden(...args);
    assert.equal(r.code, 0, `${name}: ${r.err}`);
    assert.equal(rawHidden(r.out), null, `${name}: a raw hidden character reached the terminal`);
    const text = JSON.stringify(parse(r.out));
    // The exact agent text survives: JSON escapes are the same string once parsed.
    const wanted = name.startsWith('approvals') ? [SUBJECT, SUMMARY] : name.includes('list') ? [SUBJECT, CLIENT] : [SUBJECT, CLIENT, SQL];
    for (const w of wanted) assert.ok(text.includes(JSON.stringify(w).slice(1, -1)), `${name}: ${JSON.stringify(w)} is kept exactly`);
  }
});

test('human output and errors show hidden characters escaped, never raw', () => {
  for (const args of [['transcripts', 'list'], ['transcripts', 'show', 's1'], ['transcripts', 'replay', 's1'], ['approvals', 'list'], ['approvals', 'show', 'a1']]) {
    const r = warden(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.equal(rawHidden(r.out), null, `${args.join(' ')}: stdout`);
  }
  // The self-approval refusal quotes the requester's name as stored: on stderr, escaped.
  const r = warden('approvals', 'approve', 'a1', '--as', 'agent-x');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /requested this call/);
  assert.equal(rawHidden(r.err), null, 'stderr');
  assert.ok(r.err.includes('agent-x\\u{202e}'), `the bidi override is shown: ${r.err}`);
});

test('transcripts show and replay flag look-alike words, as approvals show does', () => {
  const show = warden('transcripts', 'show', 's2');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^warning +⚠ look-alike letters.*"\u0430dmin".*"u\u0455ers"/mu);
  const replay = warden('transcripts', 'replay', 's2');
  assert.equal(replay.code, 0, replay.err);
  const lines = replay.out.split('\n');
  const at = lines.findIndex((l) => l.includes('-> query_database'));
  assert.ok(at >= 0, replay.out);
  assert.match(lines[at + 1] ?? '', /^ {14}⚠ look-alike letters.*"u\u0455ers"/u, 'the warning follows the event it is about');
});

test('transcripts show and replay count a run of blanks instead of cutting off what follows it', () => {
  for (const sub of ['show', 'replay']) {
    const r = warden('transcripts', sub, 's2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /SELECT 1 ⟨200 spaces⟩ OR true/, `${sub}: ${r.out}`);
  }
});
