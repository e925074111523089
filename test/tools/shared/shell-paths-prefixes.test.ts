/**
 * `paths:` of a shell grant or deny are absolute PREFIXES. Two leftovers:
 * - a glob character in an entry (`/home/*\/.ssh`, `**\/.git/config`) was taken literally: no real
 *   path starts with `/home/*\/`, so such a deny never fired and such an allow granted nothing the
 *   admin meant. Now an entry holding `*`, `?`, `[` or `{` (or a relative one) is a load error
 *   naming the program and the entry at its line, and the JSON Schema says so too;
 * - programs that read the names of the files they touch from a list (`tar -c -T LIST`,
 *   `sha256sum -c LIST`) had the list judged but not the names inside it, which count from the
 *   current folder (the login folder) or are absolute anywhere: refused under an allow's paths:,
 *   and a deny's paths: matches them (fail closed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { compilePolicy } from '../../../src/policy/load.js';
import { ConfigError } from '../../../src/config/yaml-source.js';
import { families } from '../../../tools/index.js';
import type { ConditionSpec } from '../../../src/tool-api.js';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';
import { REPO_ROOT } from '../../support/repo.js';

const conditions: ConditionSpec[] = [...new Map(families.flatMap((f) => f.conditions).map((c) => [c.key, c])).values()];
const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };

before(async () => {
  await initShellParser();
});

/** Problems of loading one policy file, as `LINE: path: message`; [] when it loads. */
function problems(text: string): string[] {
  try {
    compilePolicy(['/p/a.yaml'], conditions, { '/p/a.yaml': text });
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
}

const policy = (effect: string, program: string, entries: string[]): string => `rules:
  - id: r1
    effect: ${effect}
    tool: ssh_run
    shell:
      programs:
        ${program}:
          paths:
${entries.map((e) => `            - '${e}'`).join('\n')}
`;

test('a glob character in paths: is a load error naming the program, the entry and the folder to name', () => {
  for (const effect of ['allow', 'deny']) {
    const ps = problems(policy(effect, 'cat', ['/var/log', '/home/*/.ssh']));
    assert.equal(ps.length, 1, ps.join('\n'));
    const p = ps[0] as string;
    assert.match(p, /^10: rules\.0\.shell\.programs\.cat\.paths\.1: /);
    assert.match(p, /cat: paths: entry '\/home\/\*\/\.ssh' holds '\*'/);
    assert.match(p, /paths are folder prefixes, not patterns/);
    assert.match(p, /name the folder: \/home\b/);
  }
  const cases: [string, string, string][] = [
    ['/etc/ssh/ssh_host_?_key', '?', '/etc/ssh'], ['/srv/[ab]pp', '[', '/srv'], ['/srv/{a,b}/x', '{', '/srv'], ['/var/log/*.log', '*', '/var/log'],
    ['/*', '*', '/'],
  ];
  for (const [entry, ch, folder] of cases) {
    const ps = problems(policy('deny', 'grep', [entry]));
    assert.equal(ps.length, 1, `${entry}: ${ps.join('\n')}`);
    assert.ok(ps[0]?.includes(`grep: paths: entry '${entry}' holds '${ch}'`), ps[0]);
    assert.ok(ps[0]?.includes(`name the folder: ${folder}`), ps[0]);
  }
  // A relative pattern: refused too, as a pattern (there is no folder to name from it).
  const rel = problems(policy('deny', 'cat', ['**/.git/config']));
  assert.equal(rel.length, 1, rel.join('\n'));
  assert.match(rel[0] as string, /cat: paths: entry '\*\*\/\.git\/config' holds '\*'.*prefixes, not patterns.*as an absolute path/);
});

test('a relative paths: entry is a load error naming it; plain absolute prefixes load', () => {
  const ps = problems(policy('allow', 'tail', ['var/log']));
  assert.equal(ps.length, 1, ps.join('\n'));
  assert.match(ps[0] as string, /rules\.0\.shell\.programs\.tail\.paths\.0: tail: paths: entry 'var\/log' is not an absolute path: paths are folder prefixes/);
  assert.deepEqual(problems(policy('allow', 'tail', ['/var/log', '/srv/app-1.2/x_y', '/', '/opt/a b', '/srv/a]b', '/srv/a}b'])), []);
  assert.deepEqual(problems(policy('deny', 'cat', ['/home/app/.ssh', '/etc/shadow'])), []);
  // The condition's own schema refuses them too (kubectl_exec and ssh_run compile the same block).
  assert.throws(() => shellCondition.compile({ programs: { cat: { paths: ['/home/*/.ssh'] } } }, { id: 'd', effect: 'deny' }), /prefixes, not patterns/);
});

test('the published JSON Schema refuses the same entries', () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'policies', 'schema', 'policy.schema.json'), 'utf8')) as Record<string, unknown>;
  const patterns: string[] = [];
  const walk = (n: unknown): void => {
    if (n === null || typeof n !== 'object') return;
    const paths = (n as { properties?: { paths?: { items?: { pattern?: string } } } }).properties?.paths;
    if (paths?.items?.pattern !== undefined) patterns.push(paths.items.pattern);
    for (const v of Object.values(n)) walk(v);
  };
  walk(schema);
  assert.equal(patterns.length, 1, 'the paths: items of shell programs carry one pattern');
  const re = new RegExp(patterns[0] as string);
  for (const bad of ['/home/*/.ssh', '**/.git/config', '/a?', '/[ab]', '/{a,b}', 'var/log']) assert.equal(re.test(bad), false, bad);
  for (const good of ['/var/log', '/', '/srv/a]b']) assert.equal(re.test(good), true, good);
});

const P = { paths: ['/var/log', '/srv/app'] };
const { refuse, allow } = shellVerdicts({ pipelines: true, programs: { tar: P, sha256sum: P, md5sum: P, b2sum: P, cksum: P, sha1sum: P, rsync: P, ls: {}, echo: {} } });

test('tar -T/--files-from is refused under paths: when it adds files (names inside the list are not judged)', () => {
  refuse([
    'tar -cf /srv/app/o.tar -T /srv/app/list', 'tar -c -f /srv/app/o.tar --files-from=/srv/app/list', 'tar --create --file /srv/app/o.tar --files-from /srv/app/list',
    'tar -rf /srv/app/o.tar -T /srv/app/list', 'tar -uf /srv/app/o.tar -T /srv/app/list', 'tar -Af /srv/app/o.tar -T /srv/app/list',
    'tar cfT /srv/app/o.tar /srv/app/list', 'tar -cf /srv/app/o.tar --files-fr /srv/app/list', 'tar -cT/srv/app/list -f /srv/app/o.tar',
    'tar -C /srv/app -cf /srv/app/o.tar -T /srv/app/list', 'ls /srv/app | tar -cf /srv/app/o.tar -T -', 'tar --append -f /srv/app/o.tar -T /srv/app/list',
  ], /tar (-T|--files-fr[a-z-]*) reads the names of the files to add from .*, which the line does not give: name them as operands/);
  // Reading member names from a list (listing, extracting to standard output), excluding by patterns, and creating from operands run.
  allow(['tar -tf /srv/app/o.tar -T /srv/app/list', 'tar -xOf /srv/app/o.tar -T /srv/app/list']);
  // Packing or searching a tree is refused only because a bare secret may lie in it (shell/secret-files.ts): its options and paths pass.
  refuse(['tar -cf /srv/app/o.tar -X /srv/app/excl /srv/app/d', 'tar -cf /srv/app/o.tar --exclude-from=/srv/app/excl -C /srv/app d'], /may lie at any depth/);
  // Without paths: nothing bounds tar's paths, but packing names a list gives may pack a bare secret (shell/secret-files.ts).
  refuse(['tar -cf /tmp/o.tar -T /tmp/list'], /may lie at any depth/, { programs: { tar: {} } });
});

test('tar --add-file names a file to add: relative, it is refused like an operand', () => {
  refuse(['tar -cf /srv/app/o.tar --add-file=authorized_keys', 'tar -cf /srv/app/o.tar --add-file authorized_keys'],
    /tar file argument 'authorized_keys' is not an absolute path/);
  refuse(['tar -cf /srv/app/o.tar --add-file=/etc/shadow'], /tar path '\/etc\/shadow' is outside/);
  // Packing or searching a tree is refused only because a bare secret may lie in it (shell/secret-files.ts): its options and paths pass.
  refuse(['tar -cf /srv/app/o.tar --add-file=/srv/app/-x', 'tar -C /srv/app -cf /srv/app/o.tar --add-file=-x'], /may lie at any depth/);
});

test('sha256sum -c and the other checkers read the files their list names: refused under paths:', () => {
  refuse(['sha256sum -c /srv/app/sums', 'echo x | sha256sum -c', 'md5sum --check /srv/app/sums', 'sha1sum --ch /srv/app/sums', 'b2sum -c /srv/app/sums',
    'cksum --check /srv/app/sums', 'sha256sum --quiet -c /srv/app/sums', 'sha256sum -wc /srv/app/sums'],
  /(sha256sum|md5sum|sha1sum|b2sum|cksum) (-c|--check|--ch|-wc) reads the files whose names its list gives, which the line does not name/);
  allow(['sha256sum /srv/app/a /var/log/b', 'md5sum --tag /srv/app/a', 'b2sum -l 256 /srv/app/a']);
});

test('rsync --files-from is refused: the names it copies (a .git/config among them) are the list\'s, not the line\'s', () => {
  refuse(['rsync -a --files-from=/srv/app/list /srv/app/src /srv/app/dst'], /names only its list gives/);
});

const deny = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

test('a deny with paths: matches a program that reads the names of its files from a list', () => {
  const D = { paths: ['/root/.ssh'] };
  const cases: [string, string][] = [
    ['tar', 'tar -cf /tmp/a.tar -T /tmp/list'], ['tar', 'tar -cf /tmp/a.tar --files-from=-'], ['sha256sum', 'sha256sum -c /tmp/sums'],
    ['zip', 'ls /tmp | zip -@ /tmp/o.zip'], ['7z', '7z a /tmp/o.7z @/tmp/list'], ['cpio', 'ls /tmp | cpio -o -O /tmp/o.cpio'],
  ];
  for (const [program, cmd] of cases) {
    const r = deny({ pipelines: true, programs: { [program]: D } }, cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
    assert.match(r.why, /names .*which the line does not/, cmd);
    assert.match(r.why, /\/root\/\.ssh/, cmd);
  }
  for (const [program, cmd] of [['tar', 'tar -tf /tmp/a.tar -T /tmp/list'], ['tar', 'tar -cf /tmp/a.tar /tmp/x'], ['sha256sum', 'sha256sum /tmp/x']] as const) {
    const r = deny({ programs: { [program]: D } }, cmd);
    assert.equal(r.matched, false, `${cmd}: ${r.why}`);
  }
});
