/**
 * `warden policy test` and `explain` on calls the rules never judged: a case whose tool,
 * arguments or connection is wrong was refused before any rule looked at it, so its expected
 * deny passed whatever the policy said; a kubectl_logs/kubectl_exec case cannot be decided
 * offline (its parser reads the pod from the cluster first) and passed as a deny the same way.
 * The real bin as a child process, against the repository's example config.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const tmp = mkdtempSync(join(tmpdir(), 'warden-policy-unjudged-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function warden(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_BIN, 'policy', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err });
    });
  });
}

const sam = '{ subject: sam, groups: [sre] }';
const kase = (name: string, tool: string, args: string, expect: string) => `  - name: ${name}\n    principal: ${sam}\n    tool: ${tool}\n    arguments: ${args}\n    expect: ${expect}\n`;

describe('warden policy test: cases the rules never judged', { concurrency: 2 }, () => {
  test('a deny case refused before the rules (unknown tool, bad arguments, unknown connection) fails with a hint; expect.error makes it pass', async () => {
    const d = join(tmp, 'broken');
    mkdirSync(d);
    writeFileSync(
      join(d, 'cases.yaml'),
      'cases:\n' +
        kase('typo in the tool', 'kubectl_gets', '{ connection: prod, kind: secrets, namespace: shop }', '{ effect: deny }') +
        kase('typo in an argument', 'kubectl_get', '{ conection: prod, kind: secrets, namespace: shop }', '{ effect: deny }') +
        kase('typo in the connection', 'kubectl_get', '{ connection: prd, kind: secrets, namespace: shop }', '{ effect: deny }') +
        kase('the refusal is what is tested', 'kubectl_gets', '{ connection: prod }', '{ effect: deny, error: WARDEN_UNKNOWN_TOOL }') +
        kase('a real deny still passes', 'kubectl_get', '{ connection: prod, kind: secrets, namespace: shop }', '{ effect: deny, rules: [no-k8s-secrets] }'),
    );
    const r = await warden(['test', d]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /FAIL typo in the tool\n.*cases\.yaml:2: never judged by the rules: WARDEN_UNKNOWN_TOOL: unknown tool "kubectl_gets" .*\(fix the case, or expect error: WARDEN_UNKNOWN_TOOL\)/);
    assert.match(r.out, /FAIL typo in an argument\n.*cases\.yaml:7: never judged by the rules: WARDEN_INVALID_INPUT: invalid arguments for kubectl_get: .*conection/);
    assert.match(r.out, /FAIL typo in the connection\n.*cases\.yaml:12: never judged by the rules: WARDEN_UNKNOWN_CONNECTION: unknown connection "prd"/);
    assert.match(r.out, /ok {3}the refusal is what is tested/);
    assert.match(r.out, /ok {3}a real deny still passes/);
    assert.match(r.out, /tests 5, pass 2, fail 3/);
  });

  test('a connection no allow rule could grant is a decision of the policy: the deny case passes', async () => {
    const d = join(tmp, 'grant');
    mkdirSync(d);
    writeFileSync(join(d, 'cases.yaml'), 'cases:\n  - name: analysts see nothing in the cluster\n    principal: { subject: ana, groups: [analysts] }\n    tool: kubectl_get\n    arguments: { connection: prod, kind: pods, namespace: shop }\n    expect: { effect: deny }\n');
    const r = await warden(['test', d]);
    assert.equal(r.code, 0, r.out + r.err);
  });

  test('kubectl_logs cannot be decided offline: explain says so, and a test case fails, also one expecting deny', async () => {
    const d = join(tmp, 'offline');
    mkdirSync(d);
    writeFileSync(
      join(d, 'cases.yaml'),
      'cases:\n' +
        kase('logs outside shop are denied', 'kubectl_logs', '{ connection: prod, namespace: kube-system, pod: coredns-1 }', '{ effect: deny }') +
        kase('logs in shop are allowed', 'kubectl_logs', '{ connection: prod, namespace: shop, pod: web-1 }', '{ effect: allow }'),
    );
    const r = await warden(['test', d]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /FAIL logs outside shop are denied\n.*cases\.yaml:2: cannot be decided offline: kubectl_logs reads from connection prod before the rules judge the call/);
    assert.match(r.out, /FAIL logs in shop are allowed\n.*cases\.yaml:7: cannot be decided offline/);
    assert.doesNotMatch(r.out, /offline analysis never resolves secrets/);
    assert.match(r.out, /tests 2, pass 0, fail 2/);
    const e = await warden(['explain', '--as', 'sam', '--groups', 'sre', '--tool', 'kubectl_logs', '--args', '{"connection":"prod","namespace":"shop","pod":"web-1"}']);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /cannot be decided offline: kubectl_logs reads from connection prod before the rules judge the call, .*explain_call/);
    assert.match(e.out, /^decision: none here \(cannot be decided offline/m);
    assert.doesNotMatch(e.out, /offline analysis never resolves secrets/);
    const j = await warden(['explain', '--json', '--as', 'sam', '--groups', 'sre', '--tool', 'kubectl_logs', '--args', '{"connection":"prod","namespace":"shop","pod":"web-1"}']);
    const doc = JSON.parse(j.out) as { stage: string; unjudged?: string; decision: { effect: string } };
    assert.equal(doc.stage, 'parse');
    assert.equal(doc.decision.effect, 'deny');
    assert.match(doc.unjudged ?? '', /offline/);
  });
});
