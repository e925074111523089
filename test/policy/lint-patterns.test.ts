/**
 * `who:` names are compared exactly (a deny: folded), never as patterns. A deny written as
 * `subjects: ["*"]` or `groups: [contractors-*]` meant "everyone" or "every contractors- group"
 * and matched nobody: policy check reports it as an error and serve refuses it (a deny that
 * denies nothing); on an allow, which then grants only that literal name, it is a warning.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig, startRuntime } from '../../src/server/runtime.js';
import { offlineFamilies } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { ConfigError, type ConfigProblem } from '../../src/config/yaml-source.js';
import { writeWardenDir } from '../support/warden-process.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-lint-patterns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lint(policy: string): ConfigProblem[] {
  writeFileSync(join(dir, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  writeFileSync(join(dir, 'p.yaml'), policy);
  const config = loadServerConfig(join(dir, 'warden.yaml'), families);
  return lintPolicy({ policy: compileForConfig(config, families), connections: config.connections, families: offlineFamilies(families, config.connections), builtins: ['list_connections'] });
}

const DENY = `rules:
  - id: no-contractors
    effect: deny
    who: { subjects: ["*"], groups: [ops, contractors-*], claims: { email: "*@evil.example" } }
    tool: query_database
`;

test('a deny naming a subject, group or claim value with * is an error at that entry: names are not patterns', () => {
  const ps = lint(DENY).filter((p) => /not as patterns/.test(p.message));
  assert.deepEqual(ps.map((p) => [p.path, p.line, p.severity]), [
    ['rules.0.who.subjects.0', 4, 'error'],
    ['rules.0.who.groups.1', 4, 'error'],
    ['rules.0.who.claims.email', 4, 'error'],
  ]);
  assert.match(ps[1]!.message, /^rule no-contractors: group "contractors-\*" is matched exactly, not as patterns/);
});

test('on an allow it is a warning (it grants only that literal name); names without * say nothing', () => {
  const ps = lint(`rules:
  - id: read
    effect: allow
    who: { groups: ["team-*", analysts] }
    tool: query_database
    on: [analytics]
    sql: { read: [public.t] }
`).filter((p) => /not as patterns/.test(p.message));
  assert.deepEqual(ps.map((p) => [p.path, p.severity]), [['rules.0.who.groups.0', 'warning']]);
});

test('serve refuses a deny whose who names a pattern (it would deny nothing it meant to)', async () => {
  const d = writeWardenDir('transcripts: { store: sqlite:warden.db }\nconnections:\n  shop: { type: postgres, url: env:UNUSED_SHOP_URL }\npolicies: [policies/*.yaml]\n', { 'a.yaml': DENY });
  try {
    await assert.rejects(startRuntime(d.configPath, families), (e: unknown) => e instanceof ConfigError && /subject "\*" is matched exactly/.test(e.message) && /would deny nothing/.test(e.message));
  } finally {
    d.cleanup();
  }
});
