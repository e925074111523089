/**
 * Red team: `warden transcripts show|replay` printed a client name, a result or a reviewer's
 * comment stacking hundreds of combining marks as written, and a terminal paints such a stack
 * over the lines around it. Every agent-supplied text they print counts a run of more than 6
 * marks (the approval views' rule, visible-text.ts), as the statement summary already did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { tempDir } from '../recorder/fixtures.js';

const Z = `Z${Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x300 + (i % 0x4f))).join('')}`;

test('transcripts show and replay count stacked combining marks in every agent text', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 's1', principal: { subject: `agent-${Z}`, groups: [Z], authMethod: 'stdio' }, client: { name: `claude-${Z}` }, transport: 'stdio', startedAt: at });
  await store.recordIntent({ id: 'c1', sessionId: 's1', tool: 'query_database', connection: 'shop', args: { sql: `SELECT '${Z}'` }, factsSummary: `SELECT '${Z}'`, facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('c1', { status: 'ok', errorCode: null, result: { rows: [[Z]] }, masking: null, durationMs: 1, endedAt: at });
  for (const sub of ['show', 'replay']) {
    const out: string[] = [];
    assert.equal(await runTranscriptsCommand([sub, 's1'], { store, json: false, out: (s) => out.push(s), err: () => undefined }), 0);
    const text = out.join('\n');
    assert.doesNotMatch(text, /\p{M}{7,}/u, `${sub}: no run of more than 6 marks reaches the terminal`);
    assert.ok(text.includes('claude-Z\u0300\u0301 ⟨198 more combining marks⟩'), `${sub}: the client name's run is a count`);
  }
  const out: string[] = [];
  await runTranscriptsCommand(['replay', 's1'], { store, json: false, out: (s) => out.push(s), err: () => undefined });
  assert.ok(out.some((l) => l.includes('<- query_database ok') && l.includes('Z\u0300\u0301 ⟨198 more combining marks⟩')), 'the result line counts the run');
});
