/**
 * Red team, availability: kubectl_get reads annotation values (and ConfigMap values) that anyone
 * who may annotate an object wrote, a pod's own service account too. `^\s*X` under the m flag
 * (and `\n\s*X`) tries each line's start and lets `\s*` run on over every following blank line:
 * an annotation of 256 KiB of line breaks cost about a minute of the server's one thread in
 * clean.ts YAML_MANIFEST. The same shape was in container-scope.ts, configmap-values.ts,
 * the mysql and lftp escape judges and a schema helper. Now a line's indentation is read without
 * line breaks (each break is a line start of its own): linear, and the same matches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../support/repo.js';
import { cleanObject } from '../../../tools/kubernetes/clean.js';
import { encodedCopy } from '../../../tools/kubernetes/configmap-values.js';
import { lftpEscape, mysqlEscape } from '../../../tools/shared/shell/language-escapes.js';

/** A regex literal on one line: its body and flags (rough; only its matches are judged). */
const LITERAL = /\/((?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[*])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[])*)\/([dgimsuyv]*)/g;

/** A line break (or `^` under m) then `\s*` or `\s+`: every later break is a start that `\s` rereads. */
function quadraticLineStart(body: string, flags: string): boolean {
  return /\\n[)\]]*\\s[*+]/.test(body) || (flags.includes('m') && /\^[)\]]*\\s[*+]/.test(body));
}

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });

test('no regex in src or tools reads blanks across line breaks from every line start (quadratic)', () => {
  const found: string[] = [];
  for (const file of ['src', 'tools'].flatMap((d) => sources(join(REPO_ROOT, d)))) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      for (const m of line.matchAll(LITERAL)) if (quadraticLineStart(m[1]!, m[2]!)) found.push(`${relative(REPO_ROOT, file)}:${i + 1} ${m[0]}`);
    });
  }
  assert.deepEqual(found, []);
  // The check sees the shape when it is there.
  assert.ok(quadraticLineStart('^\\s*(kind)\\s*:', 'm') && quadraticLineStart('(?:^|[;\\n])\\s*(tee)', ''));
  assert.ok(!quadraticLineStart('^[^\\S\\r\\n]*(kind)\\s*:', 'm') && !quadraticLineStart('^\\s*H4sI', ''));
});

test('an annotation of many blank lines is cleaned, and a manifest after blank lines is still masked whole', () => {
  const none = new Set<string>();
  const blank = '\n'.repeat(1 << 16);
  const annotations = {
    'example.com/blank': `${blank}note`,
    'example.com/crlf': `${'\r\n'.repeat(1 << 15)}  \t\r\n  kind: Deployment`,
    'example.com/yaml': `# copy\n\n   \n  apiVersion: v1\nkind: ConfigMap`,
    'example.com/sep': `text\u2028  data: x`,
    'example.com/inline': 'a note: apiVersion: v1 is fine',
  };
  const out = cleanObject('deployments', { metadata: { name: 'x', annotations } }, none) as { metadata: { annotations: Record<string, string> } };
  const a = out.metadata.annotations;
  assert.equal(a['example.com/blank'], `${blank}note`);
  assert.equal(a['example.com/crlf'], '***');
  assert.equal(a['example.com/yaml'], '***');
  assert.equal(a['example.com/sep'], '***');
  assert.equal(a['example.com/inline'], 'a note: apiVersion: v1 is fine');
});

test('an encoded copy of a manifest after blank lines is still masked; plain text of blank lines is not', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const keep = () => false;
  assert.equal(encodedCopy(b64('\n\n   \n  kind: Secret\n'), keep), true);
  assert.equal(encodedCopy(b64(`${'\n'.repeat(1 << 15)}just text`), keep), false);
});

test('mysql and lftp commands after blank lines are still found', () => {
  assert.match(mysqlEscape('SELECT 1;\n\n   \n  system ls') ?? '', /system/);
  assert.match(mysqlEscape('  \n tee /tmp/x') ?? '', /tee/);
  assert.equal(mysqlEscape(`${'\n'.repeat(1 << 12)}SELECT 1`), null);
  assert.match(lftpEscape('ls;\n\n  shell x') ?? '', /shell/);
  assert.equal(lftpEscape(`${'\n'.repeat(1 << 12)}ls`), null);
});
