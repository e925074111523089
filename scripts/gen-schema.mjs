#!/usr/bin/env node
// Build step (after tsc): write the JSON Schemas of warden.yaml, policy files and policy test
// files to policies/schema/, and the generated reference section of docs/policy-reference.md,
// from the compiled zod schemas. test/policy/json-schema.test.ts fails when these are stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
const { families } = await import(dist('tools/index.js'));
const { generateSchemas, renderReference, spliceReference } = await import(dist('src/policy/json-schema.js'));

const schemas = generateSchemas(families);
const outDir = join(root, 'policies', 'schema');
mkdirSync(outDir, { recursive: true });
for (const [name, schema] of Object.entries(schemas)) writeFileSync(join(outDir, name), JSON.stringify(schema, null, 2) + '\n');

const doc = join(root, 'docs', 'policy-reference.md');
if (existsSync(doc)) writeFileSync(doc, spliceReference(readFileSync(doc, 'utf8'), renderReference(schemas)));
process.stderr.write(`[gen-schema] wrote ${Object.keys(schemas).length} schemas to policies/schema/\n`);
