/**
 * Red-team on PostgreSQL: records appended after the signed head without the key (a second outcome
 * for an earlier call, written with database rights) must not be signed over by the key holder's
 * next write. Every key holder signs in the transaction that moves the head, so a signed head
 * behind the head a write finds can only name records written without the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { openPgStore, type PgTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { intent, outcome, session } from './fixtures.js';

type Warning = { message: string; fields: Record<string, unknown> };

test('PostgreSQL: a forged outcome appended without the key is not signed over by the next write, and startup says so', async () => {
  const own = await createTestDatabase({ prefix: 'pgappend' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const warnings: Warning[] = [];
  const onWarning = (message: string, fields: Record<string, unknown>) => warnings.push({ message, fields });
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), onWarning });
  const stores: PgTranscriptStore[] = [s];
  try {
    await s.openSession(session('s1', 'alice', '2026-05-01T10:00:00.000Z'));
    await s.recordIntent(intent('c1', 's1', 'query_database', '2026-05-01T10:00:01.000Z'));
    await s.recordOutcome('c1', outcome('2026-05-01T10:00:01.100Z'));
    assert.equal((await s.verify()).signedHead?.seq, 3);
    // Someone with the database's rights but not the key supersedes c1's outcome (record 4).
    const forger = await openPgStore(own.url, { recoverEveryMs: 60_000 });
    stores.push(forger);
    await forger.recordOutcome('c1', { ...outcome('2026-05-01T10:00:02.000Z'), status: 'error', errorCode: 'WARDEN_BACKEND', result: { note: 'nothing was read' }, masking: null });
    assert.equal((await s.getCall('c1'))?.outcome?.status, 'error', 'readers show the forged outcome');
    // The key holder writes on.
    await s.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
    await s.closeSession('s2', '2026-05-02T10:05:00.000Z');
    const v = await s.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.deepEqual([v.head?.seq, v.signedHead?.seq, v.unsignedTail], [6, 3, 3]);
    const err: string[] = [];
    assert.equal(await runTranscriptsCommand(['verify', '--strict'], { store: s, json: false, out: () => {}, err: (e) => err.push(e) }), 1);
    assert.match(err.join('\n'), /records 4-6 are newer than the signed head 3/);
    assert.match(s.signingRefused ?? '', /record 4, after the signed head 3, was not signed by a key holder/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    // A replica that starts now says so at once.
    const startWarnings: Warning[] = [];
    const next = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), onWarning: (message, fields) => startWarnings.push({ message, fields }) });
    stores.push(next);
    assert.match((await next.checkHead()) ?? '', /record 4, after the signed head 3, was not signed/);
    assert.equal(startWarnings[0]?.fields.found, 'startup');
  } finally {
    for (const x of stores.reverse()) await x.close();
    await own.drop();
  }
});
