/**
 * Keeps the dependency arrows of DESIGN.md true: cli -> server -> pipeline -> {policy,
 * approvals, masking, recorder}; tools import only src/tool-api.ts (and tools/shared); nothing
 * imports cli or server. A wrong arrow fails here with the file and the import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './support/repo.js';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  // `import x from '...'`, `export ... from '...'`, `import('...')` and a bare `import '...'`.
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out.filter((s) => s.startsWith('.')).map((s) => relative(REPO_ROOT, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

/** Which top-level area a repo path belongs to. */
function area(p: string): string {
  const parts = p.split('/');
  if (parts[0] === 'tools') return parts[1] === 'index.ts' || parts[1] === 'connection-types.ts' ? 'tools-registry' : parts[1] === 'shared' ? 'tools-shared' : `tools/${parts[1]}`;
  if (parts[0] === 'src') return parts.length === 2 ? `src/${parts[1]!.replace(/\.ts$/, '')}` : `src/${parts[1]}`;
  return parts[0]!;
}

const ALLOWED: Record<string, (to: string) => boolean> = {
  'src/errors': () => false,
  'src/sql-names': () => false,
  'src/http-headers': () => false,
  'src/visible-text': () => false,
  'src/sealed-facts': () => false,
  'src/pg-url-params': () => false,
  'src/pg-store-tables': () => false,
  // Imported for its effect, before pg, by every module that imports pg (recorder, postgres family).
  'src/pg-stream-probe': () => false,
  'src/tool-api': (t) => t === 'src/errors' || t === 'src/sql-names' || t === 'src/sealed-facts' || t === 'src/pg-url-params' || t === 'src/pg-store-tables' || t === 'src/tool-output',
  // The seam's answer and masking types, re-exported by tool-api.ts (a type-only cycle).
  'src/tool-output': (t) => t === 'src/tool-api',
  'src/config': (t) => ['src/errors', 'src/tool-api', 'src/config'].includes(t),
  'src/policy': (t) => ['src/errors', 'src/tool-api', 'src/sql-names', 'src/config', 'src/policy'].includes(t),
  'src/masking': (t) => ['src/errors', 'src/tool-api', 'src/masking'].includes(t),
  'src/recorder': (t) => ['src/errors', 'src/tool-api', 'src/recorder', 'src/pg-stream-probe'].includes(t),
  'src/approvals': (t) => ['src/errors', 'src/tool-api', 'src/visible-text', 'src/approvals', 'src/recorder', 'src/policy'].includes(t),
  'src/identity': (t) => ['src/errors', 'src/tool-api', 'src/identity', 'src/config'].includes(t),
  'src/pipeline': (t) => ['src/errors', 'src/tool-api', 'src/pipeline', 'src/policy', 'src/approvals', 'src/masking', 'src/recorder'].includes(t),
  'src/ui': (t) => ['src/errors', 'src/http-headers', 'src/visible-text', 'src/tool-api', 'src/ui', 'src/recorder', 'src/approvals', 'src/policy', 'src/masking'].includes(t),
  'src/server': (t) => !['src/cli'].includes(t) && !t.startsWith('tools'),
  'src/cli': (t) => t !== 'tools-shared' && !/^tools\/[a-z]/.test(t),
  'tools-shared': (t) => ['src/tool-api', 'tools-shared'].includes(t),
  'tools-registry': (t) => t.startsWith('tools/') || t === 'src/tool-api',
};

test('every import follows the layering of DESIGN.md', () => {
  const files = [...walk(join(REPO_ROOT, 'src')), ...walk(join(REPO_ROOT, 'tools'))];
  assert.ok(files.length > 20, 'the walk found the sources');
  const wrong: string[] = [];
  for (const f of files) {
    const rel = relative(REPO_ROOT, f);
    const from = area(rel);
    for (const target of imports(f)) {
      const to = area(target);
      if (to === from) continue;
      const rule = from.startsWith('tools/') ? (t: string) => t === 'src/tool-api' || t === 'tools-shared' || t === 'src/pg-stream-probe' : ALLOWED[from];
      if (!rule) wrong.push(`${rel}: area ${from} has no layering rule`);
      else if (!rule(to)) wrong.push(`${rel} imports ${target} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the layering check itself catches a wrong arrow', () => {
  assert.equal(ALLOWED['src/pipeline']!('src/cli'), false);
  assert.equal(ALLOWED['src/policy']!('src/pipeline'), false);
  assert.equal(ALLOWED['src/server']!('src/cli'), false);
  assert.equal(area('tools/postgres/connector.ts'), 'tools/postgres');
  // A bare `import '...'` (for its effect) is an import too.
  assert.ok(imports(join(REPO_ROOT, 'tools/postgres/connector.ts')).includes('src/pg-stream-probe.ts'));
});

/** Every source file `entry` reaches through its imports (`dynamic`: `import()` too), repo-relative. */
function reach(entry: string, dynamic: boolean): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = readFileSync(join(REPO_ROOT, f), 'utf8');
    const re = dynamic
      ? /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
      : /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/g;
    for (let m = re.exec(src); m; m = re.exec(src)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) todo.push(relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, f)), spec)).replace(/\.js$/, '.ts'));
    }
  }
  return seen;
}

// The store commands read warden.yaml and a store; loading every tool's parsers and the runtime
// with them cost each `warden transcripts ...` and `warden approvals list` most of a second.
test('the transcripts commands, and approvals list/show, load no tool, policy condition or runtime', () => {
  const heavy = (f: string) => /^tools\/(index\.ts|shared\/shell\/|postgres\/analysis\/|[a-z]+\/(index|connector|condition|sql-condition)\.ts)/.test(f) || /^src\/(server\/runtime|pipeline\/)/.test(f);
  const transcripts = [...reach('src/cli/transcripts-cli.ts', true)];
  assert.ok(transcripts.includes('src/server/store-open.ts') && transcripts.includes('tools/connection-types.ts'), 'the walk follows import()');
  assert.deepEqual(transcripts.filter(heavy), []);
  // approve and deny import the tools and the runtime when they run (import()); the module itself does not.
  const approvals = [...reach('src/cli/approvals-command.ts', false)];
  assert.ok(approvals.includes('tools/connection-types.ts'));
  assert.deepEqual(approvals.filter(heavy), []);
  assert.ok([...reach('src/cli/approvals-command.ts', true)].some(heavy), 'the check sees a heavy import when there is one');
});
