/**
 * The published JSON Schemas and the generated reference are up to date with the zod schemas
 * (run `npm run build` to regenerate), and they accept the shipped examples' shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { generateSchemas, renderReference, spliceReference } from '../../src/policy/json-schema.js';
import { REPO_ROOT } from '../support/repo.js';

const schemas = generateSchemas(families);

test('policies/schema/*.json are up to date with the code (npm run build regenerates them)', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    const onDisk = readFileSync(join(REPO_ROOT, 'policies', 'schema', name), 'utf8');
    assert.equal(onDisk, JSON.stringify(schema, null, 2) + '\n', `policies/schema/${name} is stale`);
  }
});

test('docs/policy-reference.md carries the current generated reference', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'policy-reference.md'), 'utf8');
  assert.equal(spliceReference(doc, renderReference(schemas)), doc, 'docs/policy-reference.md is stale');
  assert.match(doc, /Deny wins/);
});

test('the policy schema is strict and knows every family block', () => {
  const rule = (schemas["policy.schema.json"].properties as Record<string, { items: Record<string, unknown> }>).rules!.items;
  assert.equal(rule.additionalProperties, false);
  const props = Object.keys(rule.properties as object);
  for (const f of families) for (const c of f.conditions) assert.ok(props.includes(c.key), `rules[].${c.key}`);
  const conns = (schemas['warden.schema.json'].properties as Record<string, Record<string, unknown>>).connections!;
  assert.match(JSON.stringify(conns), /"const":"postgres"/);
});

test('example files point editors at the schema', () => {
  for (const f of ['analyst.yaml', 'oncall-sre.yaml', 'ci-job.yaml', 'ssh-logs.yaml', 'kubernetes-debug.yaml', 'base.yaml']) {
    assert.match(readFileSync(join(REPO_ROOT, 'policies', f), 'utf8'), /^# yaml-language-server: \$schema=\.\/schema\/policy\.schema\.json$/m, f);
  }
  assert.match(readFileSync(join(REPO_ROOT, 'warden.yaml'), 'utf8'), /\$schema=\.\/policies\/schema\/warden\.schema\.json/);
});

test('no published schema offers a bare number where a duration is wanted (the loader refuses one)', () => {
  // Every duration the loaders take (approval expires/wait, OIDC timings, connection timeouts)
  // is a string with a unit; a schema that also listed integers would let an editor pass
  // `statement_timeout: 5000`, which the server refuses at start.
  const durations: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n.pattern === 'string' && /\(ms\|s\|m/.test(n.pattern)) durations.push(path);
    for (const [k, v] of Object.entries(n)) walk(v, `${path}.${k}`);
    const alts = [...((n.anyOf as unknown[]) ?? []), ...((n.oneOf as unknown[]) ?? [])] as Record<string, unknown>[];
    if (alts.some((a) => typeof a.pattern === 'string' && /\(ms\|s\|m/.test(a.pattern))) {
      assert.ok(!alts.some((a) => a.type === 'integer' || a.type === 'number'), `${path} offers a number beside the duration pattern`);
    }
  };
  for (const [name, schema] of Object.entries(schemas)) walk(schema, name);
  for (const p of ['approval.properties.expires', 'approval.properties.wait', 'jwks_cooldown', 'statement_timeout']) {
    assert.ok(durations.some((d) => d.includes(p)), `a duration pattern at ${p} (found: ${durations.length})`);
  }
});
