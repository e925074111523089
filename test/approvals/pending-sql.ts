/**
 * One pending approval request for a SQL statement, in a Warden folder's SQLite store: what the
 * reviewer-view tests (look-alike words, hidden characters) show on the card, the CLI and the
 * prompt. Registers its own before/after hooks; the getters are valid inside tests.
 */
import { after, before } from 'node:test';
import { createApprovalService } from '../../src/approvals/index.js';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import type { Decision } from '../../src/policy/types.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';

const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 600_000, wait: 0, ruleId: 'fix' },
};

export function pendingSqlApproval(sql: string, factsSummary: string): { store: () => SqliteTranscriptStore; dir: () => WardenDir; id: () => string } {
  let store: SqliteTranscriptStore | undefined;
  let dir: WardenDir | undefined;
  let id = '';
  before(async () => {
    dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\nconnections:\n  db: { type: postgres, url: env:UNUSED_URL }\npolicies: [policies/*.yaml]\n', { 'p.yaml': 'rules: []\n' });
    store = openSqliteStore(dir.dbPath);
    const r = await createApprovalService(store.approvals).gate({
      callId: 'c1', sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' }, tool: 'query_database', connection: 'db',
      canonicalArgs: { connection: 'db', sql }, decision, factsSummary, signal: new AbortController().signal,
    });
    id = (r as { approvalId: string }).approvalId;
  });
  after(async () => {
    await store?.close();
    dir?.cleanup();
  });
  return { store: () => store!, dir: () => dir!, id: () => id };
}
