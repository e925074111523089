/**
 * Runs every case of ../shared/corpus/sql.yaml against the analyser and the baseline allow rule.
 * deny: refused by analyzeSql (WARDEN_PARSE) or not matched by the allow rule.
 * allow: analysed and matched. no-leak: refused, or lineage names users.email/ssn (or users.*).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { analyzeSql, type SqlFacts } from '../../../tools/postgres/analysis/index.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import { corpusDir } from '../../support/repo.js';

interface Case { id: string; sql?: string; build?: string; expect: 'allow' | 'deny' | 'no-leak' }


const corpus = parseYaml(readFileSync(join(corpusDir(), 'sql.yaml'), 'utf8')) as { cases: Case[]; generated: Case[] };

/** The corpus baseline policy, in Warden's own `sql:` language. */
export const baselineAllow = sqlCondition.compile(
  {
    statements: ['select'],
    read: ['public.users', 'public.orders'],
    functions: ['count', 'sum', 'avg', 'min', 'max', 'lower', 'upper', 'length', 'coalesce', 'now', 'date_trunc', 'round', 'abs'],
  },
  { id: 'analysts-read', effect: 'allow' },
);
const call = { tool: 'query_database', connection: 'analytics', args: {} };

function analyse(sql: string): SqlFacts | { refused: string } {
  try {
    return analyzeSql(sql);
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'WARDEN_PARSE', `unexpected error ${String(e)}`);
    return { refused: (e as Error).message };
  }
}

const MASKED = ['email', 'ssn'];

/**
 * Every output column that could carry a masked value must name it (or users.*) as a source,
 * so the masking stage can act; at least one output column must do so.
 */
function assertMaskable(facts: SqlFacts): void {
  const safe = new Set(['id', 'name']);
  let carriers = 0;
  for (const col of facts.output) {
    const users = col.sources.filter((s) => s.table === 'public.users').map((s) => s.column);
    if (users.includes('*') || users.some((c) => MASKED.includes(c))) {
      carriers++;
      continue;
    }
    const harmless = col.sources.every((s) => s.table === 'public.users' && safe.has(s.column));
    assert.ok(harmless, `output ${col.name} may carry a masked value but names ${JSON.stringify(col.sources)}`);
  }
  assert.ok(carriers > 0, `no output names users.email/ssn or users.*: ${JSON.stringify(facts.output)}`);
}

function check(c: Case, sql: string): void {
  const r = analyse(sql);
  if (c.expect === 'deny') {
    if ('refused' in r) return;
    const res = baselineAllow(r, call);
    assert.equal(res.matched, false, `${c.id} was allowed: ${JSON.stringify(r)}`);
    assert.ok(res.why.length > 0);
    return;
  }
  assert.ok(!('refused' in r), `${c.id} refused: ${'refused' in r ? r.refused : ''}`);
  const facts = r as SqlFacts;
  if (c.expect === 'allow') {
    const res = baselineAllow(facts, call);
    assert.equal(res.matched, true, `${c.id}: ${res.why}`);
    return;
  }
  assertMaskable(facts);
}

for (const c of corpus.cases) {
  test(`corpus ${c.id} (${c.expect})`, () => check(c, c.sql ?? ''));
}

test('corpus generated: deep-nesting is refused', () => {
  check({ id: 'deep-nesting', expect: 'deny' }, 'SELECT ' + '('.repeat(20000) + '1' + ')'.repeat(20000));
});

test('corpus generated: huge-query is refused', () => {
  check({ id: 'huge-query', expect: 'deny' }, 'SELECT id FROM users WHERE name IN (' + Array(200000).fill("'x'").join(',') + ')');
});

test('every generated case in the corpus is covered here', () => {
  assert.deepEqual(corpus.generated.map((g) => g.id).sort(), ['deep-nesting', 'huge-query']);
});
