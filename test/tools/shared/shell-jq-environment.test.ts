/**
 * jq's program is a language, and it reads the environment: `jq -n env`, `$ENV`, `env.NAME`,
 * also inside a string's `\(...)`. The remote environment may hold secrets (a database URL, a
 * token), so a grant of jq printed them. Now a jq or yq program that names `env`/`$ENV` (yq:
 * also `env()`, `strenv()`, `envsubst`), or one Warden cannot read (`-f FILE`, `import`,
 * `include`), is refused unless the grant says `environment: true`. Field names (`.env`),
 * strings and other builtins (`input_filename`, `$__loc__`) still pass.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const BLOCK = { pipelines: true, programs: { jq: { rewrites: true }, yq: { rewrites: true }, echo: {}, ssh: {} } };
const { refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});

const ENV = /reads the environment \(.*\), which may hold secrets; this grant does not say environment: true/;
const UNREAD = /a program Warden cannot read/;

test('jq programs that read the environment are refused', () => {
  refuse([
    'jq -n env', "jq -n '$ENV'", "jq -n '$ENV.PATH'", "jq -n 'env.HOME'", "jq -n '$ ENV'", "jq -n '\"\\(env)\"'", "jq -n '[env][0]'",
    "jq '.a | env' /tmp/x.json", "echo '{}' | jq env", "jq -r --arg x y 'env.SECRET' /tmp/x.json", "jq -n '{$ENV}'", "jq -n '.[env]'",
    "jq -n '\"a\" + (env | tostring)'", "jq -n '# note \"\nenv'", "jq --args -n 'env' a b", "jq -n -- env", "jq -nr env.TOKEN",
    "ssh h jq -n env",
  ], ENV);
});

test('yq programs that read the environment are refused (kislyuk and mikefarah spellings)', () => {
  refuse(["yq -n env", "yq -n '$ENV.HOME'", "yq '.a = env(HOME)' /tmp/x.yaml", "yq -n 'strenv(TOKEN)'", "yq '.a | envsubst' /tmp/x.yaml",
    "yq e '.a = strenv(X)' /tmp/x.yaml", "yq --expression 'env(X)' /tmp/x.yaml"], ENV);
});

test('a program Warden cannot read (a file, a module) is refused', () => {
  refuse(['jq -f /tmp/prog.jq /tmp/x.json', 'jq --from-file /tmp/prog.jq /tmp/x.json', "jq -n 'import \"x\" as x; x::f'",
    "jq -n 'include \"x\"; f'", "jq -L /tmp -n 'import \"a\" as $a; $a'", 'yq -f /tmp/prog.jq /tmp/x.yaml'], UNREAD);
});

test('field names, strings and other builtins still pass', () => {
  allow(['jq .env /tmp/x.json', "jq '.a.env' /tmp/x.json", "jq -n '\"env\"'", "jq -n 'input_filename'", "jq -n '$__loc__'",
    "jq '.[] | select(.name == \"environment\")' /tmp/x.json", "jq '.environment' /tmp/x.json", "jq -n '\"\\(.a) env\"'",
    "jq --arg env x -n '$env'", "jq -r '.envs[]' /tmp/x.json", "jq '.x | length' /tmp/x.json", "echo '{}' | jq .", 'jq -n 1',
    "yq '.spec.env' /tmp/x.yaml", "yq -n '\"ENV\"'"]);
});

test('a grant that says environment: true allows them', () => {
  const granted = { programs: { jq: { environment: true, rewrites: true }, yq: { environment: true, rewrites: true } } };
  allow(['jq -n env', "jq -n '$ENV.PATH'", "yq -n 'strenv(X)'", 'jq -f /tmp/prog.jq /tmp/x.json'], granted);
  // A program file under the prefixes is still a program Warden cannot read (it was allowed before).
  const under = { paths: ['/srv/app', '/var/log'] };
  refuse(['jq -f /srv/app/p.jq /var/log/a.json'], UNREAD, { programs: { jq: under } });
  allow(['jq -f /srv/app/p.jq /var/log/a.json'], { programs: { jq: { ...under, environment: true, rewrites: true } } });
  // Under paths:, yq's load() reads a file no prefix judges, whatever environment: says.
  refuse(["yq '.a = load(\"/etc/shadow\")' /srv/app/x.yaml"], /yq load reads a file its expression names, which paths: does not judge/,
    { programs: { yq: { ...under, environment: true } } });
});

test('environment: is refused on other programs and in a deny', () => {
  for (const [block, effect] of [[{ programs: { cat: { environment: true } } }, 'allow'], [{ programs: { jq: { environment: true } } }, 'deny']] as const) {
    assert.throws(() => shellCondition.compile(block, { id: 'x', effect }), /environment: is for an allow's jq, yq, gojq, jaq grant/);
  }
});
