/**
 * explain (`warden policy explain`, explain_call) predicts query_database's refusal of a function
 * outside pg_catalog under column masks (tools/postgres/function-bodies.ts; the e2e proof is
 * test/e2e/sql-masked-function-bodies.test.ts): a grant with no `sql` block names no function,
 * one naming the function trusts it, and without masks nothing is predicted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { explainCall, formatExplain, offlineTools } from '../../src/policy/explain.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-explain-fn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MASKS = 'masking:\n  columns: [{ column: public.users.email, with: partial }]\n';
const RULES = `rules:
  - id: everything
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
  - id: trusted
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    sql: { statements: [select], functions: [public.all_users] }
`;
const ana = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'local' as const };

async function explain(policy: string, sql: string) {
  writeFileSync(join(dir, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  writeFileSync(join(dir, 'p.yaml'), policy);
  const config = loadServerConfig(join(dir, 'warden.yaml'), families);
  const env = { policy: compileForConfig(config, families), tools: offlineTools(families, config.connections), connections: config.connections };
  return explainCall(env, ana, 'query_database', { connection: 'analytics', sql });
}

test('under masks, a function no allowing grant names is predicted as refused at execution', async () => {
  const r = await explain(MASKS + RULES, 'SELECT public.email_of(1) AS e');
  assert.equal(r.decision.effect, 'allow');
  assert.match(r.masking?.refused ?? '', /public\.email_of is a function outside pg_catalog .*no grant behind the decision names it/);
  assert.match(formatExplain(r), /refused at execution: public\.email_of/);
});

test('a function a grant behind the decision names, built-ins, and no masks: nothing predicted', async () => {
  assert.equal((await explain(MASKS + RULES, 'SELECT * FROM public.all_users()')).masking?.refused, undefined);
  assert.equal((await explain(MASKS + RULES, 'SELECT lower(name) AS n, count(*) AS c FROM users GROUP BY 1')).masking?.refused, undefined);
  assert.equal((await explain(RULES, 'SELECT public.email_of(1) AS e')).masking?.refused, undefined);
});
