/**
 * The published JSON Schemas and the generated reference are up to date with the zod schemas
 * (run `npm run build` to regenerate), and they accept the shipped examples' shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
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

type Json = Record<string, unknown>;
/** The published schema of each connection type: the oneOf branch whose `type` is that const. */
function connectionBranches(): Map<string, Json> {
  const conns = (schemas['warden.schema.json'].properties as Record<string, Json>).connections!;
  const oneOf = (conns.additionalProperties as Json).oneOf as Json[];
  assert.ok(Array.isArray(oneOf), 'connections entries are a oneOf keyed on type (editors check the keys of the type written)');
  return new Map(oneOf.map((b) => [((b.properties as Record<string, Json>).type!.const as string), b]));
}

test('warden.yaml schema checks each connection by its type, every key described; the reference has a table per type', () => {
  const branches = connectionBranches();
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'policy-reference.md'), 'utf8');
  assert.deepEqual([...branches.keys()], families.map((f) => f.connectionType));
  for (const f of families) {
    const b = branches.get(f.connectionType)!;
    assert.equal(b.additionalProperties, false, `${f.connectionType}: unknown keys are errors`);
    const section = doc.split(`### Connections: \`type: ${f.connectionType}\``)[1]?.split('\n### ')[0];
    assert.ok(section, `docs/policy-reference.md has a section for type: ${f.connectionType}`);
    const walk = (node: Json, prefix: string): void => {
      for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Json>)) {
        if (k === 'type' && !prefix) continue;
        const key = prefix + k;
        assert.ok(typeof v.description === 'string' && v.description.length > 10, `${f.connectionType} connection key ${key} has a .describe()`);
        assert.ok(section.includes(`| \`${key}\` |`), `the ${f.connectionType} table lists ${key}`);
        if (v.type === 'object') walk(v, `${key}.`);
      }
    };
    walk(b, '');
  }
});

test('defaults are published as written: connection keys (every one with a default) and warden.yaml durations', () => {
  const branches = connectionBranches();
  for (const f of families) {
    assert.ok(f.connectionSchema instanceof z.ZodObject);
    const props = branches.get(f.connectionType)!.properties as Record<string, Json>;
    for (const [k, field] of Object.entries(f.connectionSchema.shape as Record<string, z.ZodType>)) {
      const kind = (field as unknown as { _zod: { def: { type: string } } })._zod.def.type;
      if (kind !== 'default' && kind !== 'prefault') continue;
      const shown = props[k]!.default;
      // A duration default given in milliseconds (.default(5000)) is dropped from the schema: use .prefault('5s').
      assert.notEqual(shown, undefined, `${f.connectionType}.${k} shows its default`);
      assert.deepEqual(field.parse(shown), field.parse(undefined), `${f.connectionType}.${k}: the published default is the one applied`);
    }
  }
  const w = schemas['warden.schema.json'].properties as Record<string, Json>;
  const at = (...path: string[]) => path.reduce<Json>((n, k) => (n.properties as Record<string, Json>)[k]!, { properties: w }).default;
  assert.equal(at('identity', 'oidc', 'clock_tolerance'), '30s');
  assert.equal(at('identity', 'oidc', 'jwks_cooldown'), '30s');
  assert.equal(at('identity', 'oidc', 'jwks_max_age'), '10m');
  assert.equal(at('transcripts', 'liveness_grace'), '5s');
  assert.equal(at('http', 'request_timeout'), '120s');
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'policy-reference.md'), 'utf8');
  assert.match(doc, /\| `transcripts\.liveness_grace` \| duration \|.* Default: `5s`\. \|/);
  assert.match(doc, /\| `statement_timeout` \| duration \| `5s` \|/);
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
