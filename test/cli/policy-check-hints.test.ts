/**
 * `warden policy check` on an admin's typos: an unknown key names the key it was probably meant
 * to be (or the keys allowed there), and a required key that is missing says so. The real bin
 * as a child process, against temp configs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const tmp = mkdtempSync(join(tmpdir(), 'warden-policy-hints-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function warden(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_BIN, 'policy', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err });
    });
  });
}

function config(name: string, policy: string, server = 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n'): string {
  const d = join(tmp, name);
  mkdirSync(join(d, 'policies'), { recursive: true });
  writeFileSync(join(d, 'warden.yaml'), server);
  writeFileSync(join(d, 'policies', 'p.yaml'), policy);
  return join(d, 'warden.yaml');
}

describe('warden policy check: typos', { concurrency: 3 }, () => {
  test('a misspelt key names the key it was meant to be, at its line; a missing required key says it is missing', async () => {
    const file = config(
      'typo',
      [
        'rules:',
        '  - id: analysts-read',
        '    efect: allow',
        '    who: { grups: [analysts] }',
        '    tool: query_database',
        '    sql:',
        '      statments: [select]',
        '      read: [public.users]',
        '    approval:',
        '      reviewer: { groups: [dba] }',
        'masking:',
        '  colums:',
        '    - { column: public.users.email, with: partial }',
        '',
      ].join('\n'),
    );
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    // One summary line on stdout, as when the files load; the problems on stderr.
    assert.match(r.out, /^FAILED: the configuration or a policy file did not load; [1-9]\d* errors, \d+ warnings\n$/);
    assert.match(r.err, /p\.yaml:3: rules\.0\.efect: unknown key \(did you mean "effect"\?\)/);
    assert.match(r.err, /p\.yaml:4: rules\.0\.who\.grups: unknown key \(did you mean "groups"\?\)/);
    assert.match(r.err, /p\.yaml:7: rules\.0\.sql\.statments: unknown key \(did you mean "statements"\?\)/);
    assert.match(r.err, /p\.yaml:10: rules\.0\.approval\.reviewer: unknown key \(did you mean "reviewers"\?\)/);
    assert.match(r.err, /p\.yaml:12: masking\.colums: unknown key \(did you mean "columns"\?\)/);
    assert.match(r.err, /p\.yaml:2: rules\.0\.effect: missing required key \(Invalid option: expected one of "allow"\|"deny"\)/);
    const j = await warden(['check', '--json', '--config', file]);
    const doc = JSON.parse(j.out) as { ok: boolean; problems: { line: number; path: string; message: string }[] };
    assert.equal(doc.ok, false);
    assert.deepEqual(doc.problems.find((p) => p.path === 'rules.0.efect'), { file: join(tmp, 'typo', 'policies', 'p.yaml'), line: 3, path: 'rules.0.efect', message: 'unknown key (did you mean "effect"?)', severity: 'error' });
  });

  test('a key far from every allowed one lists the keys allowed there', async () => {
    const file = config('far', 'rules:\n  - id: x\n    effect: deny\n    tool: query_database\n    sql: { statements: [drop] }\n    because: migrations only\n');
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    const line = r.err.split('\n').find((l) => l.includes('rules.0.because')) ?? '';
    assert.match(line, /p\.yaml:6: rules\.0\.because: unknown key \(allowed here: .*\bid\b.*\beffect\b.*\breason\b.*\bsql\b.*\)/);
  });

  test('warden.yaml typos get the same hint', async () => {
    const file = config('server', 'rules: []\n', 'connections:\n  db: { type: postgres, url: env:DB, statment_timeout: 5s }\npolicies: [policies/*.yaml]\n');
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /warden\.yaml:2: connections\.db\.statment_timeout: unknown key \(did you mean "statement_timeout"\?\)/);
  });

  test('a duration in another spelling names the one Warden reads', async () => {
    const file = config(
      'duration',
      'rules:\n  - id: fix\n    effect: allow\n    who: { groups: [sre] }\n    tool: query_database\n    sql: { statements: [update], write: [public.orders] }\n    approval:\n      reviewers: { groups: [dba] }\n      expires: 5min\n      wait: 1.5 minutes\n',
    );
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /p\.yaml:9: rules\.0\.approval\.expires: expected a duration such as 500ms, 5s, 30m or 1h: write 5m\n/);
    assert.match(r.err, /p\.yaml:10: rules\.0\.approval\.wait: expected a duration such as 500ms, 5s, 30m or 1h: write 90s\n/);
  });

  test('a group spelt in another case than elsewhere is a warning where it is matched exactly', async () => {
    const file = config(
      'case',
      [
        'rules:',
        '  - id: oncall-read',
        '    effect: allow',
        '    who: { groups: [oncall] }',
        '    tool: query_database',
        '    sql: { read: [public.orders] }',
        '  - id: oncall-fix',
        '    effect: allow',
        '    who: { groups: [OnCall] }',
        '    tool: query_database',
        '    sql: { statements: [update], write: [public.orders] }',
        '    approval:',
        '      reviewers: { groups: [DBA] }',
        '  - id: no-dba-drops',
        '    effect: deny',
        '    who: { groups: [dba] }',
        '    tool: query_database',
        '    sql: { statements: [drop] }',
        '',
      ].join('\n'),
    );
    const r = await warden(['check', '--json', '--config', file]);
    assert.equal(r.code, 0, 'warnings alone do not fail');
    const doc = JSON.parse(r.out) as { problems: { line: number; path: string; message: string; severity: string }[] };
    const found = doc.problems.filter((p) => /differs only in case/.test(p.message)).map((p) => [p.line, p.path, p.severity, p.message]);
    assert.deepEqual(found, [
      [9, 'rules.1.who.groups.0', 'warning', `rule oncall-fix: group "OnCall" differs only in case from "oncall" (${join(tmp, 'case', 'policies', 'p.yaml')}:4): an allow matches names exactly, so it does not reach a principal in "oncall" (write the name as the identity provider sends it)`],
      [13, 'rules.1.approval.reviewers.groups.0', 'warning', `rule oncall-fix: group "DBA" differs only in case from "dba" (${join(tmp, 'case', 'policies', 'p.yaml')}:16): reviewers match names exactly, so it does not make a principal in "dba" a reviewer (write the name as the identity provider sends it)`],
    ]);
  });

  test('a value of the wrong shape says what to write: a case slip in a keyword, a name for a list, a list for a map', async () => {
    const file = config(
      'shape',
      [
        'rules:',
        '  - id: r1',
        '    effect: Allow',
        '    who: { groups: analysts }',
        '    tool: query_database',
        '    sql: { statements: [select], read: [public.users] }',
        '  - id: r2',
        '    effect: allow',
        '    who: { groups: [sre] }',
        '    tool: ssh_run',
        '    shell: { programs: [uptime, tail] }',
        '',
      ].join('\n'),
    );
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /p\.yaml:3: rules\.0\.effect: Invalid option: expected one of "allow"\|"deny" \(did you mean "allow"\?\)\n/);
    assert.match(r.err, /p\.yaml:4: rules\.0\.who\.groups: expected a list, not a single value \(write \[analysts\]\)\n/);
    assert.match(r.err, /p\.yaml:11: rules\.1\.shell\.programs: expected a map of name: value, not a list\n/);
  });

  test('a misspelt tool or connection names the one it was probably meant to be', async () => {
    const file = config('names', 'rules:\n  - id: r1\n    effect: allow\n    who: { groups: [analysts] }\n    tool: query_databse\n    on: [dbb]\n    sql: { read: [public.users] }\n');
    const r = await warden(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /p\.yaml:5: rules\.0\.tool: rule r1: unknown tool "query_databse" \(did you mean "query_database"\? known: query_database, describe_database, /);
    assert.match(r.err, /p\.yaml:6: rules\.0\.on\.0: rule r1: unknown connection "dbb" \(did you mean "db"\? configured: db\)/);
  });
});
