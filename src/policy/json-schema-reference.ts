/**
 * The generated part of docs/policy-reference.md: a table of every key of policy files,
 * warden.yaml and policy test files, and one table per connection type, rendered from the
 * published JSON Schemas (json-schema.ts) so that the page, the editors and the server agree.
 */
import type { SchemaSet } from './json-schema.js';

type Json = Record<string, unknown>;

/** Patterns of the duration and secret-reference strings (schema-parts.ts, tools/shared/duration.ts). */
const isDuration = (p: unknown) => typeof p === 'string' && p.startsWith('^\\d+(ms|s|m');
const isSecretRef = (p: unknown) => typeof p === 'string' && p.startsWith('^(env:');

function typeOf(s: Json): string {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (Array.isArray(alts)) return [...new Set(alts.map(typeOf))].join(' or ');
  if (s.type === 'array') return `list of ${typeOf((s.items ?? {}) as Json)}`;
  if (s.type === 'object' && !s.properties && s.additionalProperties) return 'map';
  if (s.type === 'string' && isDuration(s.pattern)) return 'duration';
  if (s.type === 'string' && isSecretRef(s.pattern)) return 'secret reference';
  if (s.type === 'integer' && typeof s.minimum === 'number' && typeof s.maximum === 'number') return `integer ${s.minimum}–${s.maximum}`;
  return typeof s.type === 'string' ? s.type : 'any';
}

/** A default as written in YAML: a duration or a name bare (`5s`, not `"5s"`), anything else as JSON. */
function shownDefault(v: unknown): string {
  return `\`${typeof v === 'string' && v !== '' ? v : JSON.stringify(v)}\``;
}

/** Visit every key of an object schema, nested objects and list items included (as `a.b`, `a[].b`). */
function walk(s: Json, prefix: string, depth: number, visit: (key: string, v: Json, required: boolean) => void): void {
  const props = s.properties as Record<string, Json> | undefined;
  if (!props || depth > 4) return;
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [k, v] of Object.entries(props)) {
    if (k === '$schema') continue;
    const key = prefix ? `${prefix}.${k}` : k;
    visit(key, v, required.has(k));
    const inner = v.type === 'array' ? (v.items as Json) : Array.isArray(v.anyOf) ? ((v.anyOf as Json[]).find((b) => b.properties) ?? v) : v;
    walk(inner, v.type === 'array' ? `${key}[]` : key, depth + 1, visit);
  }
}

/** A description as a table cell (a | would end the cell). */
const meaning = (v: Json) => ((v.description as string | undefined) ?? '').replace(/\|/g, '\\|');

function keyTable(title: string, s: Json, out: string[]): void {
  out.push(`### ${title}`, '', '| key | type | required | meaning |', '|---|---|---|---|');
  walk(s, '', 0, (key, v, required) => {
    const def = v.default !== undefined ? ` Default: ${shownDefault(v.default)}.` : '';
    out.push(`| \`${key}\` | ${typeOf(v)} | ${required ? 'yes' : ''} | ${meaning(v)}${def} |`);
  });
  out.push('');
}

/** The branches of warden.yaml's `connections` entries, one per `type` (a oneOf keyed on type). */
function connectionBranches(warden: Json): { type: string; schema: Json }[] {
  const entry = ((warden.properties as Record<string, Json> | undefined)?.connections?.additionalProperties ?? {}) as Json;
  const branches = (entry.oneOf ?? entry.anyOf ?? [entry]) as Json[];
  return branches.flatMap((b) => {
    const type = (b.properties as Record<string, Json> | undefined)?.type?.const;
    return typeof type === 'string' ? [{ type, schema: b }] : [];
  });
}

/** One table per connection type: its keys, their type, default (or required) and meaning. */
function connectionTables(warden: Json, out: string[]): void {
  for (const { type, schema } of connectionBranches(warden)) {
    out.push(`### Connections: \`type: ${type}\``, '', `Keys of a \`connections:\` entry with \`type: ${type}\`.`, '');
    out.push('| key | type | default | meaning |', '|---|---|---|---|');
    walk(schema, '', 0, (key, v, required) => {
      if (key === 'type') return;
      const parent = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
      const def = v.default !== undefined ? shownDefault(v.default) : required ? (parent ? `required in \`${parent}\`` : 'required') : '';
      out.push(`| \`${key}\` | ${typeOf(v)} | ${def} | ${meaning(v)} |`);
    });
    out.push('');
  }
}

/** The generated reference section of docs/policy-reference.md (tables of every key). */
export function renderReference(schemas: SchemaSet): string {
  const out: string[] = [];
  keyTable('Policy files (`policies/*.yaml`)', schemas['policy.schema.json'], out);
  keyTable('Server configuration (`warden.yaml`)', schemas['warden.schema.json'], out);
  connectionTables(schemas['warden.schema.json'], out);
  keyTable('Policy test files (`policies/tests/*.yaml`)', schemas['policy-test.schema.json'], out);
  return out.join('\n');
}

/** Markers around the generated part of the reference page. */
export const GENERATED_START = '<!-- generated from the zod schemas by scripts/gen-schema.mjs: do not edit below -->';
/** End marker of the generated part. */
export const GENERATED_END = '<!-- end of generated reference -->';

/** Replace the generated block of a document (or append it). */
export function spliceReference(doc: string, generated: string): string {
  const block = `${GENERATED_START}\n\n${generated}\n${GENERATED_END}`;
  const a = doc.indexOf(GENERATED_START);
  const b = doc.indexOf(GENERATED_END);
  if (a === -1 || b === -1) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, a) + block + doc.slice(b + GENERATED_END.length);
}
