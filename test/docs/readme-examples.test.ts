/**
 * The documentation against the code, so the two cannot drift apart unnoticed:
 * - every fenced YAML example in README.md and docs/*.md loads (a warden.yaml example as a
 *   config, a policy example or a fragment of rules as a policy file beside the example config's
 *   connections, test cases against the example policies) with no error, as `policy check` and
 *   `policy test` would judge it;
 * - the README's CLI block names exactly the flags the commands' usage texts name;
 * - every WARDEN_* code of src/errors.ts is documented, and every WARDEN_* name the docs use
 *   exists (an error code, or an environment variable the sources read);
 * - the README's Architecture layout names every folder and module of src/, tools/ and
 *   tools/shared/, and names nothing that does not exist.
 * Offline and in process except six `warden` usage prints (run in parallel): a few seconds.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError, formatProblem } from '../../src/config/yaml-source.js';
import { ErrorCode } from '../../src/errors.js';
import { offlineFamilies } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { loadTestCases, runTestCases } from '../../src/policy/test-cases.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const DOCS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
/** Tools Warden adds itself (as `policy check` passes them to the lint). */
const BUILTINS = ['list_connections', 'approval_status', 'explain_call'];
/** Top-level keys only warden.yaml has (a policy file has version, masking and rules). */
const CONFIG_KEYS = new Set(['transcripts', 'identity', 'connections', 'policies', 'limits', 'admins', 'ui', 'http', 'rate_limits', 'responses']);

const tmp = mkdtempSync(join(tmpdir(), 'warden-docs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Block {
  where: string;
  lang: string;
  text: string;
}

/** Fenced code blocks, dedented (a block inside a list item is indented with it). */
function codeBlocks(file: string): Block[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!);
    const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
    out.push({ where: `${file}:${i + 2}`, lang: open[2]!, text: body.map((l) => l.slice(indent)).join('\n') + '\n' });
    i = j;
  }
  return out;
}

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}

/** What `policy check` reports as errors for the config at `file` (problems as FILE:LINE text). */
function checkErrors(file: string): string[] {
  try {
    const config = loadServerConfig(file, families);
    const policy = compileForConfig(config, families);
    const lint = lintPolicy({ policy, connections: config.connections, families: offlineFamilies(families, config.connections), builtins: BUILTINS });
    return lint.filter((p) => p.severity === 'error').map(formatProblem);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(formatProblem);
    throw e;
  }
}

/** The example warden.yaml's connections (analytics, shop, web-1, prod), which the policy examples name. */
const exampleConnections = (() => {
  const text = readFileSync(join(REPO_ROOT, 'warden.yaml'), 'utf8');
  const start = text.indexOf('\nconnections:');
  const end = text.indexOf('\npolicies:', start);
  assert.ok(start >= 0 && end > start, 'the example warden.yaml has connections: then policies:');
  return text.slice(start + 1, end + 1);
})();

const yamlBlocks = DOCS.flatMap(codeBlocks).filter((b) => b.lang === 'yaml');

test('the docs have YAML examples to check', () => {
  assert.ok(yamlBlocks.length >= 6, `found ${yamlBlocks.length}`);
});

for (const [n, b] of yamlBlocks.entries()) {
  test(`YAML example ${b.where} loads`, async () => {
    const dir = join(tmp, `example-${n}`);
    const fragment = b.text.trimStart().startsWith('- ');
    const doc: unknown = fragment ? null : parse(b.text);
    const keys = doc && typeof doc === 'object' ? Object.keys(doc) : [];
    if (keys.includes('cases')) {
      // Test cases run against the example config and policies, as `policy test` does.
      const config = loadServerConfig(join(REPO_ROOT, 'warden.yaml'), families);
      const policy = compileForConfig(config, families);
      const cases = loadTestCases([write(join(dir, 'cases.yaml'), b.text)]);
      const results = await runTestCases({ policy, tools: offlineFamilies(families, config.connections).flatMap((f) => f.tools), connections: config.connections }, cases);
      assert.ok(results.length > 0);
      for (const r of results) assert.ok(r.passed, `${b.where}: case "${r.name}" fails: ${r.failures.join('; ')}`);
      return;
    }
    let configFile: string;
    if (keys.some((k) => CONFIG_KEYS.has(k))) {
      // A warden.yaml example, with an empty policy file for its policies: glob.
      write(join(dir, 'policies', 'empty.yaml'), 'rules: []\n');
      configFile = write(join(dir, 'warden.yaml'), b.text);
    } else {
      // A policy file, or a list of rules taken out of one.
      const policy = fragment ? 'rules:\n' + b.text.replace(/^(?=.)/gm, '  ') : b.text;
      write(join(dir, 'policies', 'example.yaml'), policy);
      configFile = write(join(dir, 'warden.yaml'), `${exampleConnections}policies: [policies/*.yaml]\n`);
    }
    assert.deepEqual(checkErrors(configFile), [], `${b.where} does not load`);
  });
}

/** Run the bin; resolves with stdout + stderr whatever the exit code (a bare command's usage exits 2, --help 0). */
function usageOf(args: string[]): Promise<string> {
  // A scratch config, though a bare command prints its usage before reading one.
  const cwd = join(tmp, 'cli');
  write(join(cwd, 'policies', 'empty.yaml'), 'rules: []\n');
  write(join(cwd, 'warden.yaml'), 'transcripts: { store: sqlite:warden.db }\npolicies: [policies/*.yaml]\n');
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '' } }, (_err, stdout, stderr) => resolve(stdout + stderr));
  });
}

function cliBlock(): string {
  const at = README.indexOf('\n## CLI\n');
  assert.ok(at >= 0, 'README has a CLI section');
  const start = README.indexOf('```\n', at) + 4;
  return README.slice(start, README.indexOf('```', start));
}

test('the README CLI block names exactly the flags of the commands', async () => {
  const usage = (await Promise.all([['--help'], ['serve', '--help'], ['demo', '--help'], ['policy'], ['approvals'], ['transcripts']].map(usageOf))).join('\n');
  const block = cliBlock();
  const flags = (s: string) => new Set([...s.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
  const inUsage = flags(usage);
  const inReadme = flags(block);
  assert.ok(inUsage.has('--expect-head-file') && inUsage.has('--state'), 'the usage texts were read');
  assert.deepEqual([...inReadme].filter((f) => !inUsage.has(f)), [], 'README CLI flags no command has');
  assert.deepEqual([...inUsage].filter((f) => !inReadme.has(f) && f !== '--help'), [], 'flags missing from the README CLI block');
  // Every subcommand of the usage texts is on a README line of its command.
  for (const m of usage.matchAll(/warden (policy|approvals|transcripts) ([a-z|]+)/g)) {
    for (const sub of m[2]!.split('|')) {
      const lines = block.split('\n').filter((l) => l.startsWith(`warden ${m[1]} `));
      assert.ok(lines.some((l) => new RegExp(`\\b${sub}\\b`).test(l)), `README CLI block lacks warden ${m[1]} ${sub}`);
    }
  }
});

test('every error code is documented, and every WARDEN_* name in the docs exists', () => {
  const docs = DOCS.map((f) => readFileSync(join(REPO_ROOT, f), 'utf8')).join('\n');
  const codes = new Set<string>(Object.values(ErrorCode));
  const undocumented = [...codes].filter((code) => !new RegExp(`\\b${code}\\b`).test(README));
  // Other WARDEN_* names are environment variables: an env: reference in an example, or read by the sources.
  const sources = ['src', 'tools', 'scripts', 'bin', 'test/support']
    .flatMap(function walk(d: string): string[] {
      return readdirSync(join(REPO_ROOT, d)).flatMap((f) => (statSync(join(REPO_ROOT, d, f)).isDirectory() ? walk(`${d}/${f}`) : /\.(ts|mjs|js)$/.test(f) ? [`${d}/${f}`] : []));
    })
    .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
    .join('\n');
  const unknown = new Set<string>();
  for (const m of docs.matchAll(/(env:)?\b(WARDEN_[A-Z0-9_]*[A-Z0-9])\b/g)) {
    const name = m[2]!;
    if (m[1] || codes.has(name)) continue;
    if (!new RegExp(`\\b${name}\\b`).test(sources)) unknown.add(name);
  }
  assert.deepEqual({ undocumented, unknown: [...unknown] }, { undocumented: [], unknown: [] }, 'codes of src/errors.ts the README does not name; WARDEN_* names in the docs that are neither error codes nor environment variables the code reads');
});

test('the README Architecture layout matches the folders and modules', () => {
  const at = README.indexOf('\n## Architecture\n');
  const start = README.indexOf('```\n', at) + 4;
  const block = README.slice(start, README.indexOf('```', start));
  const named = new Map<string, Set<string>>();
  let top = '';
  for (const line of block.split('\n')) {
    const m = /^( {0,2})(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === '') {
      top = m[2]!.replace(/\/$/, '');
      named.set(top, new Set());
      assert.ok(existsSync(join(REPO_ROOT, top)), `Architecture names ${top}, which does not exist`);
    } else {
      const entry = m[2]!.replace(/\/$/, '');
      named.get(top)!.add(entry);
      assert.ok(existsSync(join(REPO_ROOT, top, entry)), `Architecture names ${top}/${entry}, which does not exist`);
    }
  }
  const missing: string[] = [];
  for (const [dir, prefix] of [['src', ''], ['tools', ''], ['tools/shared', 'shared/']] as const) {
    const listed = named.get(dir.split('/')[0]!) ?? new Set<string>();
    for (const f of readdirSync(join(REPO_ROOT, dir))) {
      if (!statSync(join(REPO_ROOT, dir, f)).isDirectory() && !f.endsWith('.ts')) continue;
      if (dir === 'tools' && f === 'shared') continue; // listed file by file below
      const entry = prefix + f;
      if (!listed.has(entry)) missing.push(`${dir}/${f}`);
    }
  }
  assert.deepEqual(missing, [], 'folders and modules the README Architecture section does not name');
});
