/**
 * The shared security corpora for shell lines (shell.yaml) and kubectl_exec argv / `sh -c`
 * (kubernetes.yaml), run at the parser + `shell:` condition level.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  canonicalCommandLine, initShellParser, parseArgv, parseShell, shellCondition, unwrapShellC,
} from '../../../tools/shared/shell/index.js';
import type { ShellFacts } from '../../../tools/shared/shell/index.js';
import { corpusDir } from '../../support/repo.js';


function cases<T>(file: string): T[] {
  return (parseYaml(readFileSync(join(corpusDir(), file), 'utf8')) as { cases: T[] }).cases;
}

const LOG = ['/var/log/app'];
/** shell.yaml's baseline in Warden's policy language. */
const SSH_BASELINE = {
  pipelines: true,
  programs: {
    uptime: {}, df: { paths: LOG }, ps: { paths: LOG }, ls: { paths: LOG }, cat: { paths: LOG }, head: { paths: LOG },
    tail: { paths: LOG }, wc: { paths: LOG }, find: { paths: LOG },
    grep: { paths: LOG, deny_flags: ['-f', '--file', '--exclude-from'] },
    systemctl: { subcommands: ['status'] },
  },
};
const K8S_PATHS = ['/app', '/var/log'];
/** kubernetes.yaml's program baseline (pipelines as in shell.yaml for `sh -c` scripts). */
const K8S_BASELINE = {
  pipelines: true,
  programs: { ls: { paths: K8S_PATHS }, cat: { paths: K8S_PATHS }, env: {}, ps: { paths: K8S_PATHS }, df: { paths: K8S_PATHS } },
};
const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };

type Outcome = { decision: 'allow' | 'deny'; why: string; facts?: ShellFacts };

function judge(parse: () => ShellFacts, block: unknown): Outcome {
  const rule = shellCondition.compile(block, { id: 'baseline', effect: 'allow' });
  let facts: ShellFacts;
  try {
    facts = parse();
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'WARDEN_PARSE', `unexpected error ${String(err)}`);
    return { decision: 'deny', why: `parse: ${(err as Error).message}` };
  }
  const r = rule(facts, CALL);
  assert.ok(r.why.length > 0);
  return { decision: r.matched ? 'allow' : 'deny', why: r.why, facts };
}

before(async () => {
  await initShellParser();
});

describe('shell.yaml corpus', () => {
  for (const c of cases<{ id: string; cmd: string; expect: 'allow' | 'deny' }>('shell.yaml')) {
    it(`${c.id}: ${c.expect}`, () => {
      const out = judge(() => parseShell(c.cmd), SSH_BASELINE);
      assert.equal(out.decision, c.expect, `${c.id}: ${out.why}`);
      if (out.decision === 'allow' && out.facts !== undefined) {
        // What would run is the canonical rebuild, and it re-parses to the same words.
        const line = canonicalCommandLine(out.facts);
        assert.deepEqual(parseShell(line).commands, out.facts.commands);
      }
    });
  }
});

describe('kubernetes.yaml argv and sh -c cases', () => {
  type K8sCase = { id: string; namespace: string; pod: string; container: string; command: string[]; expect: string };
  const relevant = cases<K8sCase>('kubernetes.yaml').filter(
    (c) => c.namespace === 'shop' && c.pod === 'web-1' && c.container === 'app' && c.expect !== 'no-leak',
  );
  assert.ok(relevant.length >= 8);
  for (const c of relevant) {
    it(`${c.id}: ${c.expect}`, () => {
      const out = judge(() => unwrapShellC(c.command) ?? parseArgv(c.command), K8S_BASELINE);
      assert.equal(out.decision, c.expect, `${c.id}: ${out.why}`);
    });
  }
  it('env-secrets: env alone is allowed (masking handles the output)', () => {
    const out = judge(() => parseArgv(['env']), K8S_BASELINE);
    assert.equal(out.decision, 'allow', out.why);
  });
  it('sh -c facts are marked and rebuildable', () => {
    const facts = unwrapShellC(['sh', '-c', 'ls /app | cat']);
    assert.ok(facts !== null);
    assert.equal(facts.source, 'sh-c');
    assert.equal(canonicalCommandLine(facts), "'ls' /app | 'cat'");
  });
});
