/**
 * Policy test cases and explain, offline: the same validate -> parse -> decide path as the
 * pipeline, with the real families and the real example policies of the repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { explainCall, formatExplain, offlineTools } from '../../src/policy/explain.js';
import { checkCase, findTestFiles, loadTestCases, runTestCases, testCaseSchema } from '../../src/policy/test-cases.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { REPO_ROOT } from '../support/repo.js';

const config = loadServerConfig(join(REPO_ROOT, 'warden.yaml'), families);
const env = { policy: compileForConfig(config, families), tools: offlineTools(families, config.connections), connections: config.connections };
const ana = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'local' as const };

test('every shipped example case passes', async () => {
  const cases = loadTestCases(findTestFiles(join(REPO_ROOT, 'policies', 'tests')));
  assert.ok(cases.length >= 20, `cases found: ${cases.length}`);
  const results = await runTestCases(env, cases);
  assert.deepEqual(results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.failures.join('; ')}`), []);
});

test('explain shows facts, every rule with why, masking and the decision', async () => {
  const r = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 'SELECT id, email FROM users' });
  assert.equal(r.stage, 'decide');
  assert.equal(r.decision.effect, 'allow');
  assert.deepEqual(r.decision.rule_ids, ['analysts-read']);
  assert.equal(r.rules.length, env.policy.rules.length, 'every rule is considered');
  assert.ok(r.rules.every((t) => t.why.length > 0 && t.line > 0));
  assert.deepEqual(r.masking?.columns.map((m) => [m.column, m.strategy]), [['email', 'partial']]);
  const text = formatExplain(r);
  assert.match(text, /reads: public\.users/);
  assert.match(text, /MATCH allow analysts-read \(.*analyst\.yaml:\d+\)/);
  assert.match(text, /decision: ALLOW by analysts-read/);
});

test('a derived masked column is predicted as refused at execution', async () => {
  const r = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 'SELECT lower(email) AS e FROM users' });
  assert.match(r.masking?.refused ?? '', /public\.users\.email.*on_derived: deny/);
});

test('input refused before the policy stops at its stage with its code', async () => {
  const parse = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 'SELECT 1; DROP TABLE users' });
  assert.equal(parse.stage, 'parse');
  assert.equal(parse.error?.code, 'WARDEN_PARSE');
  assert.equal(parse.decision.effect, 'deny');
  const bad = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 5 });
  assert.equal(bad.error?.code, 'WARDEN_INVALID_INPUT');
  const conn = await explainCall(env, ana, 'query_database', { connection: 'nope', sql: 'SELECT 1' });
  assert.equal(conn.error?.code, 'WARDEN_UNKNOWN_CONNECTION');
  const tool = await explainCall(env, ana, 'drop_everything', {});
  assert.equal(tool.error?.code, 'WARDEN_UNKNOWN_TOOL');
});

test('a wrong expectation fails with a precise message', async () => {
  const c = testCaseSchema.parse({
    name: 'wrong on purpose',
    principal: { subject: 'ana', groups: ['analysts'] },
    tool: 'query_database',
    arguments: { connection: 'analytics', sql: 'SELECT id, email FROM users' },
    expect: { effect: 'deny', rules: ['no-schema-changes'], masked: ['ssn'], approval: true },
  });
  const [r] = await runTestCases(env, [{ file: 'x.yaml', line: 1, c }]);
  assert.equal(r!.passed, false);
  const f = r!.failures.join('\n');
  assert.match(f, /expected deny, got allow/);
  assert.match(f, /expected rules \[no-schema-changes\], got \[analysts-read\]/);
  assert.match(f, /expected masked columns \[ssn\], got \[email\]/);
  assert.match(f, /expected an approval obligation/);
  assert.deepEqual(checkCase({ ...c, expect: { effect: 'allow', rules: ['analysts-read'], masked: ['email'] } }, r!.report), []);
});

test('a malformed case file is reported as FILE:LINE', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'warden-cases-'));
  try {
    writeFileSync(join(d, 'bad.yaml'), 'cases:\n  - name: x\n    principal: { subject: a }\n    tool: query_database\n    expect: { effect: permit }\n    colour: red\n');
    assert.throws(() => loadTestCases(findTestFiles(d)), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.problems.some((p) => p.line === 5 && p.path === 'cases.0.expect.effect'), JSON.stringify(e.problems));
      assert.ok(e.problems.some((p) => p.line === 6 && p.path === 'cases.0.colour' && p.message === 'unknown key (allowed here: name, principal, tool, arguments, expect)'));
      return true;
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a base table star is predicted to run with each column masked; a star over a UNION as refused', async () => {
  const star = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 'SELECT * FROM users' });
  assert.equal(star.masking?.refused, undefined);
  assert.ok(star.masking?.columns.some((m) => m.column === 'email' && m.strategy === 'partial'));
  const union = await explainCall(env, ana, 'query_database', { connection: 'analytics', sql: 'SELECT * FROM users UNION ALL SELECT * FROM users' });
  assert.match(union.masking?.refused ?? '', /public\.users\.email.*whole-row.*on_derived: deny/);
});
