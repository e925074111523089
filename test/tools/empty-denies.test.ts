import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';

const rule = (effect: 'allow' | 'deny', sql: string) => `rules:\n  - id: r\n    effect: ${effect}\n    tool: query_database\n    sql: ${sql}\n`;

test('a sql deny whose list names nothing does not load (it would deny nothing)', () => {
  for (const sql of ['{ statements: [] }', '{ read: [] }', '{ write: [] }', '{ functions: [] }', '{ read: [public.secrets], write: [] }']) {
    assert.throws(
      () => compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': rule('deny', sql) }),
      (e: unknown) => e instanceof ConfigError && /empty, so it would deny nothing/.test(e.message),
      sql,
    );
  }
  // An allow may name no tables (SELECT 1), and a deny that names something loads.
  compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': rule('allow', '{ read: [] }') });
  compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': rule('deny', '{ read: [public.secrets] }') });
});

test('a shell deny naming no program does not load either', async () => {
  const { shellCondition } = await import('../../tools/shared/shell/condition.js');
  const text = 'rules:\n  - id: r\n    effect: deny\n    tool: ssh_run\n    shell: { programs: {} }\n';
  assert.throws(() => compilePolicy(['p.yaml'], [shellCondition], { 'p.yaml': text }), (e: unknown) => e instanceof ConfigError && /would deny nothing/.test(e.message));
  compilePolicy(['p.yaml'], [shellCondition], { 'p.yaml': text.replace('programs: {}', 'programs: { rm: {} }') });
});
