/**
 * Policies a careless admin (or a template) can write that used to load with another meaning
 * than the one written: empty files, `who` blocks that name nobody, two strategies for one
 * masked column, an approval on a deny, bare-number durations. Each is refused at load with
 * FILE:LINE and the key; the forms that mean what they say still load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy } from '../../src/policy/load.js';
import { decide } from '../../src/policy/engine.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { families } from '../../tools/index.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import type { ConditionSpec, Principal } from '../../src/tool-api.js';

const conditions: ConditionSpec[] = [...new Map(families.flatMap((f) => f.conditions).map((c) => [c.key, c])).values()];

/** Problems of compiling these files, as `FILE:LINE: path: message`; [] when they load. */
function problems(texts: Record<string, string>): string[] {
  try {
    compilePolicy(Object.keys(texts), conditions, texts);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => `${p.file}:${p.line}: ${p.path}: ${p.message}`);
  }
}

const rule = (who: string, extra = '') => `rules:
  - id: r
    effect: allow
    who: ${who}
    tool: query_database
    sql: { statements: [select], read: [public.t] }
${extra}`;

test('an empty or comment-only policy file does not load as "no rules" (a half-written reload keeps the old policy)', () => {
  assert.match(problems({ '/p/deny.yaml': '' }).join('\n'), /^\/p\/deny\.yaml:1: : policy file is empty/);
  assert.match(problems({ '/p/deny.yaml': '# the deny rules are being rewritten\n' }).join('\n'), /policy file is empty/);
  assert.match(problems({ '/p/deny.yaml': '---\n' }).join('\n'), /policy file is empty/);
  assert.deepEqual(problems({ '/p/none.yaml': 'rules: []\n' }), [], 'a file that says it has no rules loads');
});

test('a file that cannot be read is named with its reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-load-'));
  assert.throws(() => compilePolicy([join(dir, 'missing.yaml')], conditions), (e: unknown) => e instanceof ConfigError && /missing\.yaml:0: cannot read policy file \(ENOENT\)/.test(e.message));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, Buffer.from([0x72, 0x75, 0x6c, 0x65, 0x73, 0x3a, 0x20, 0xff, 0x0a]));
  assert.throws(() => compilePolicy([bad], conditions), (e: unknown) => e instanceof ConfigError && /bad\.yaml:1: not valid UTF-8/.test(e.message));
});

test('who: an empty list, map or block names nobody and is refused (it used to grant everyone)', () => {
  const anyone: Principal = { subject: 'mallory', groups: [], claims: {}, authMethod: 'oidc' };
  // What the old loader did with `groups: []`: the allow matched every principal.
  for (const who of ['{ groups: [] }', '{ subjects: [] }', '{}', '{ claims: {} }', '{ subjects: [], groups: [] }']) {
    const p = problems({ '/p/a.yaml': rule(who) });
    assert.ok(p.some((x) => /^\/p\/a\.yaml:4: rules\.0\.who(\.subjects|\.groups|\.claims)?: /.test(x)), `${who}: ${p.join('\n')}`);
  }
  assert.match(problems({ '/p/a.yaml': rule('{ claims: { repository: [] } }') }).join('\n'), /rules\.0\.who\.claims\.repository: an empty list of values/);
  assert.match(problems({ '/p/a.yaml': rule('{ groups: [sre] }', '    approval: { reviewers: {} }\n') }).join('\n'), /rules\.0\.approval\.reviewers: who: names nobody/);
  const ok = compilePolicy(['/p/a.yaml'], conditions, { '/p/a.yaml': rule('{ groups: [sre], claims: { repository: [org/app] } }') });
  assert.equal(decide(ok, anyone, { tool: 'query_database', connection: 'db', args: {} }, analyzeSql('SELECT * FROM t')).effect, 'deny');
});

test('one masked column, one strategy: a second entry that would quietly replace the first is refused', () => {
  const mask = (col: string, w: string) => `masking:\n  columns:\n    - { column: ${col}, with: ${w} }\n`;
  const p = problems({ '/p/a.yaml': mask('public.users.ssn', 'redact'), '/p/b.yaml': mask('users.SSN', 'partial') });
  assert.match(p.join('\n'), /^\/p\/b\.yaml:3: masking\.columns\.0\.with: column public\.users\.ssn is masked with "redact" at \/p\/a\.yaml:3; a second strategy "partial"/);
  assert.notDeepEqual(problems({ '/p/a.yaml': 'masking:\n  columns:\n    - { column: users.ssn, with: redact }\n    - { column: users.ssn, with: hash }\n' }), []);
  const same = compilePolicy(['/p/a.yaml', '/p/b.yaml'], conditions, { '/p/a.yaml': mask('public.users.ssn', 'redact'), '/p/b.yaml': mask('users.ssn', 'redact') });
  assert.deepEqual(same.masking.columns, [{ column: 'public.users.ssn', strategy: 'redact' }]);
});

test('on_derived said two ways in two files is refused; said once it applies to all', () => {
  const p = problems({ '/p/a.yaml': 'masking: { on_derived: deny }\n', '/p/b.yaml': 'masking: { on_derived: mask }\n' });
  assert.match(p.join('\n'), /\/p\/b\.yaml:1: masking\.on_derived: on_derived: mask contradicts on_derived: deny at \/p\/a\.yaml:1/);
  const once = compilePolicy(['/p/a.yaml', '/p/b.yaml'], conditions, { '/p/a.yaml': 'rules: []\n', '/p/b.yaml': 'masking: { on_derived: mask }\n' });
  assert.equal(once.masking.onDerived, 'mask');
});

test('approval and limits on a deny rule are refused (a deny cannot be approved)', () => {
  const deny = (extra: string) => `rules:\n  - id: d\n    effect: deny\n    tool: query_database\n${extra}`;
  assert.match(problems({ '/p/a.yaml': deny('    approval: { reviewers: { groups: [dba] } }\n') }).join('\n'), /:5: rules\.0\.approval: approval: applies to allow rules only/);
  assert.match(problems({ '/p/a.yaml': deny('    limits: { calls_per_minute: 5 }\n') }).join('\n'), /rules\.0\.limits: limits: applies to allow rules only/);
});

test('durations need a unit: a bare number (seconds, undocumented) is refused', () => {
  const withApproval = (a: string) => rule('{ groups: [sre] }', `    approval: { reviewers: { groups: [dba] }, ${a} }\n`);
  // Written in milliseconds, the old reading kept the approval usable for 20.8 days.
  assert.match(problems({ '/p/a.yaml': withApproval('expires: 1800000') }).join('\n'), /rules\.0\.approval\.expires: a duration needs a unit: 1800000ms, 1800000s/);
  assert.match(problems({ '/p/a.yaml': withApproval('wait: 60') }).join('\n'), /approval\.wait: a duration needs a unit/);
  const ok = compilePolicy(['/p/a.yaml'], conditions, { '/p/a.yaml': withApproval('expires: 30m, wait: 0s') });
  assert.equal(ok.rules[0]!.approval?.expires, 30 * 60_000);
  assert.equal(ok.rules[0]!.approval?.wait, 0);
});

test('a rule whose blocks judge no common kind of call is refused (it could never match, a deny denied nothing)', () => {
  const both = `rules:\n  - id: no-drop-no-rm\n    effect: deny\n    sql: { statements: [drop] }\n    shell: { programs: { rm: {} } }\n`;
  assert.match(problems({ '/p/a.yaml': both }).join('\n'), /^\/p\/a\.yaml:2: rules\.0: can never match: sql: judges sql calls, shell: judges shell\/kubernetes-exec calls/);
  const pods = `rules:\n  - id: pods\n    effect: allow\n    who: { groups: [sre] }\n    tool: kubectl_exec\n    kubernetes: { namespaces: [shop] }\n    shell: { programs: { ls: {} } }\n`;
  assert.deepEqual(problems({ '/p/a.yaml': pods }), [], 'kubernetes: and shell: both judge kubectl_exec');
});

test('already safe: a misspelled key is an error, never ignored (also inside who and a deny)', () => {
  assert.match(problems({ '/p/a.yaml': 'rules:\n  - id: d\n    efect: deny\n' }).join('\n'), /rules\.0\.efect: unknown key/);
  assert.match(problems({ '/p/a.yaml': 'rules:\n  - id: d\n    effect: deny\n    who: { group: [contractors] }\n' }).join('\n'), /:4: rules\.0\.who\.group: unknown key/);
  assert.match(problems({ '/p/a.yaml': 'rules:\n  - id: d\n    effect: deny\n    tools: [ssh_run]\n' }).join('\n'), /rules\.0\.tools: unknown key \(did you mean "tool"\?\)/);
});

test('already safe: the policy version changes with any byte, the file order and the file names', () => {
  const a = 'rules:\n  - { id: a, effect: allow, who: { groups: [x] }, tool: ssh_run, shell: { programs: { ls: {} } } }\n';
  const b = 'rules:\n  - { id: b, effect: deny, who: { groups: [y] } }\n';
  const v = (texts: Record<string, string>) => compilePolicy(Object.keys(texts), conditions, texts).version;
  const base = v({ '/p/a.yaml': a, '/p/b.yaml': b });
  assert.equal(v({ '/p/a.yaml': a, '/p/b.yaml': b }), base);
  assert.notEqual(v({ '/p/b.yaml': b, '/p/a.yaml': a }), base, 'order decides which approval applies, so it is part of the version');
  assert.notEqual(v({ '/p/a.yaml': a, '/p/b.yaml': b + '# reviewed\n' }), base);
  assert.notEqual(v({ '/p/a.yaml': a, '/q/b.yaml': b }), base);
});
