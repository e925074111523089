/**
 * Red team: `warden approvals list` cut each request's parsed summary at 80 characters without a
 * mark, so a row read as the whole call. An agent's `ssh_run` of harmless `ls` commands followed by
 * `rm -rf /srv/data` listed as `ls /var/log/app ; ls /var/log/nginx ; ...` and nothing more, and a
 * reviewer approving from the list (`approve ID` needs no `show`) approved the `rm` unseen. The cut
 * is now said in the row, with how many characters it left out and where the call is shown whole;
 * a summary that fits is printed as before.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { initShellParser, parseShell } from '../../tools/shared/shell/parse.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { approvalsCli } from './support.js';

let dir: WardenDir;
const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' };
const decision: Decision = {
  effect: 'allow', ruleIds: ['ops'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60_000, wait: 0, ruleId: 'ops' },
};

before(() => {
  dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
policies: [policies/*.yaml]
`,
    { 'p.yaml': 'rules: []\n' },
  );
});
after(() => dir?.cleanup());

async function request(command: string, summary: string): Promise<string> {
  const s = openSqliteStore(dir.dbPath);
  try {
    const r = await createApprovalService(s.approvals).gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool: 'ssh_run', connection: 'web1',
      canonicalArgs: { connection: 'web1', command, timeout_s: null }, decision, factsSummary: summary, signal: new AbortController().signal,
    });
    return (r as { approvalId: string }).approvalId;
  } finally {
    await s.close();
  }
}

test('approvals list says where it cut a summary; a summary that fits is whole', async () => {
  await initShellParser();
  const long = 'ls /var/log/app ; ls /var/log/nginx ; ls /var/log/postgresql ; ls /var/log/redis ; rm -rf /srv/data';
  const longSummary = parseShell(long).summary;
  assert.ok(longSummary.length > 80 && longSummary.indexOf('rm -rf /srv/data') > 80, longSummary);
  const cutId = await request(long, longSummary);
  const wholeId = await request('uptime', parseShell('uptime').summary);
  const list = await approvalsCli(['list', '--config', dir.configPath]);
  assert.equal(list.code, 0, list.err);
  const row = (id: string) => list.out.split('\n').find((l) => l.startsWith(`${id}\t`)) ?? '';
  const cut = row(cutId);
  assert.match(cut, /…/, `the cut is marked: ${cut}`);
  assert.match(cut, new RegExp(`\\+${longSummary.length - 79} characters: warden approvals show ${cutId}`), cut);
  const whole = row(wholeId);
  assert.match(whole, /\tuptime$/, `a short summary is printed as before: ${whole}`);
});
