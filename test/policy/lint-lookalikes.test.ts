/**
 * Names in `who:` (and approval reviewers) that mix Latin with Cyrillic or Greek letters, or use
 * full-width or mathematical letters, are a lint warning at their line: a deny for group
 * `аdmins` written with a Cyrillic `а` reads as `admins` and never matches it, and a grant to a
 * look-alike group reaches whoever can get that name from the identity provider.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { offlineFamilies } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import type { ConfigProblem } from '../../src/config/yaml-source.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-lint-lookalikes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lint(policy: string): ConfigProblem[] {
  writeFileSync(join(dir, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  writeFileSync(join(dir, 'p.yaml'), policy);
  const config = loadServerConfig(join(dir, 'warden.yaml'), families);
  const compiled = compileForConfig(config, families);
  return lintPolicy({ policy: compiled, connections: config.connections, families: offlineFamilies(families, config.connections), builtins: ['list_connections'] });
}

test('a deny naming a group with a Cyrillic letter is a warning at that entry, with the code point', () => {
  const ps = lint(`rules:
  - id: no-admins-drop
    effect: deny
    who: { groups: [ops, "\\u0430dmins"] }
    tool: query_database
    sql: { statements: [drop] }
`);
  const w = ps.find((p) => /look-alike/.test(p.message));
  assert.ok(w, ps.map((p) => p.message).join('\n'));
  assert.equal(w.severity, 'warning');
  assert.equal(w.path, 'rules.0.who.groups.1');
  assert.equal(w.line, 4);
  assert.match(w.message, /group "аdmins".*U\+0430 Cyrillic.*a deny never matches the name it reads as/);
});

test('subjects, claim names and values, and approval reviewers are checked too; plain names in any one script are not', () => {
  const ps = lint(`rules:
  - id: read
    effect: allow
    who: { subjects: ["m\\u0430llory"], groups: [админы, analysts], claims: { "r\\u03bfle": sre, team: "ｏｐｓ" } }
    tool: query_database
    on: [analytics]
    sql: { read: [public.t] }
    approval: { reviewers: { groups: ["le\\u0430ds"] } }
`);
  const paths = ps.filter((p) => /look-alike/.test(p.message)).map((p) => p.path).sort();
  assert.deepEqual(paths, ['rules.0.approval.reviewers.groups.0', 'rules.0.who.claims.role', 'rules.0.who.claims.team', 'rules.0.who.subjects.0'].map((p) => p.replace('role', 'r\u03bfle')).sort(), ps.map((p) => `${p.path}: ${p.message}`).join('\n'));
  assert.ok(ps.every((p) => !/look-alike/.test(p.message) || p.severity === 'warning'));
});

test('a deny naming subjects and actors together is a warning (it needs both, which reads as either)', () => {
  const both = lint(`rules:
  - id: no-bots
    effect: deny
    who: { subjects: [mallory], actors: [agent-x] }
    tool: query_database
`);
  const w = both.find((p) => /AND whose actor chain/.test(p.message));
  assert.ok(w, both.map((p) => p.message).join('\n'));
  assert.equal(w.severity, 'warning');
  const alone = lint(`rules:
  - id: no-bots
    effect: deny
    who: { actors: [agent-x] }
    tool: query_database
`);
  assert.equal(alone.find((p) => /AND whose actor chain/.test(p.message)), undefined);
});

test('a name written wholly in Cyrillic or Greek letters that read as Latin ones is a warning too (no Latin letter to mix with)', () => {
  const ps = lint(`rules:
  - id: no-ops-drop
    effect: deny
    who: { groups: ["\\u043e\\u0440\\u0455", админы] }
    tool: query_database
    sql: { statements: [drop] }
  - id: amen-read
    effect: allow
    who: { groups: ["\\u0391\\u039c\\u0395\\u039d", Ελλάδα] }
    tool: query_database
    on: [analytics]
    sql: { read: [public.t] }
`);
  const ws = ps.filter((p) => /look-alike/.test(p.message));
  assert.deepEqual(ws.map((p) => p.path), ['rules.0.who.groups.0', 'rules.1.who.groups.0'], ps.map((p) => p.message).join('\n'));
  assert.match(ws[0]!.message, /group "орѕ".*U\+043E Cyrillic.*reads as Latin "ops"/);
  assert.match(ws[1]!.message, /reads as Latin "AMEN"/);
  assert.ok(ws.every((p) => p.severity === 'warning'));
});
