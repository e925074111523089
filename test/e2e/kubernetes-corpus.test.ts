/**
 * Every case of shared/corpus/kubernetes.yaml through `warden serve` (real MCP client over
 * stdio) against the protocol-faithful test API server, under the corpus's baseline policy.
 * Denied cases must never reach the exec endpoint; no-leak cases run but the secret never
 * reaches the agent nor the transcript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { corpusDir } from '../support/repo.js';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { PLANTED } from '../support/kube-apiserver/fixtures.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

interface Case {
  id: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  expect: 'allow' | 'deny' | 'no-leak';
  secret?: string;
}

const cases = (parseYaml(readFileSync(join(corpusDir(), 'kubernetes.yaml'), 'utf8')) as { cases: Case[] }).cases;

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube());
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const execCount = () => server.requests.filter((r) => r.path.includes('/exec?') && r.status === 101).length;

describe('shared/corpus/kubernetes.yaml through warden serve', () => {
  test('the corpus has cases of every kind', () => {
    assert.ok(cases.length >= 15, `only ${cases.length} cases`);
    for (const e of ['allow', 'deny', 'no-leak']) assert.ok(cases.some((c) => c.expect === e), e);
  });

  for (const c of cases) {
    test(`${c.id}: ${c.expect}`, async () => {
      const before = execCount();
      const r = await w.call('kubectl_exec', { connection: 'prod', namespace: c.namespace, pod: c.pod, container: c.container, command: c.command });
      if (c.expect === 'deny') {
        assert.equal(r.isError, true, `${c.id} must be refused: ${r.text}`);
        assert.match(r.text, /^WARDEN_(DENIED|PARSE|INVALID_INPUT)/, r.text);
        assert.equal(execCount(), before, `${c.id}: a denied call reached the exec endpoint`);
        return;
      }
      assert.equal(r.isError, false, `${c.id} must run: ${r.text}`);
      const s = r.structured as { stdout: string; exit_code: number | null; warden: { rule_ids: string[] } };
      assert.equal(s.exit_code, 0, r.text);
      assert.equal(execCount(), before + 1);
      assert.ok(s.warden.rule_ids.includes('sre-pods'));
      if (c.id === 'ls' || c.id === 'sh-c-allowed') assert.match(s.stdout, /index\.html/);
      if (c.id === 'cat-log') assert.match(s.stdout, /serving on :8080/);
      if (c.expect === 'no-leak') {
        assert.match(s.stdout, /DATABASE_URL=/, 'env ran');
        assert.match(s.stdout, /LOG_LEVEL=info/, 'harmless values pass');
        for (const secret of [PLANTED.dbPassword, PLANTED.awsSecret]) {
          assert.ok(!r.text.includes(secret), `text leaks ${secret}`);
          assert.ok(!JSON.stringify(r.structured).includes(secret), `structured leaks ${secret}`);
        }
      }
    });
  }

  test('the transcript holds no planted secret', () => {
    const all = dumpTranscript(dir.dbPath);
    assert.match(all, /kubectl_exec/);
    for (const secret of [PLANTED.dbPassword, PLANTED.awsSecret]) assert.ok(!all.includes(secret), `transcript leaks ${secret}`);
  });
});
