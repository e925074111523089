/**
 * Red team of a grant of text tools: a program that rewrites the text it reads takes a secret's
 * name away from its value (or hides the value from the content detectors), so command-output
 * masking, which reads `DB_PASSWORD=***`, never sees it: `cut -d= -f2 .env`, `awk -F= '{print
 * $2}'`, `sed 's/.*=//'`, `tr -d =`, `rev`, `fold`, `base64`, `xxd`, `od`, `jq -r .db.password`,
 * also in a pipeline, in ssh's remote command and through a hop. Now each is refused unless the
 * program's grant says `rewrites: true` (rewriters.ts); a sed script or awk program that only
 * selects whole lines, and jq's `.`, still pass. nl -s and cmp -l are options of line-keeping
 * programs: allow_flags (output-shape.ts).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/srv/app'] };
const NAMES = ['cut', 'tr', 'rev', 'fold', 'fmt', 'paste', 'column', 'pr', 'join', 'base64', 'base32', 'basenc', 'xxd', 'od', 'hexdump', 'hd', 'iconv', 'dd',
  'sed', 'awk', 'gawk', 'jq', 'yq', 'openssl', 'gcut', 'gbase64', 'sd', 'mlr', 'gron', 'nl', 'cmp', 'cat', 'grep', 'head', 'tail', 'sort', 'uniq', 'tac', 'strings', 'expand', 'colrm', 'unexpand', 'numfmt', 'gnumfmt'];
const BLOCK = { pipelines: true, programs: { ...Object.fromEntries(NAMES.map((n) => [n, P])), ssh: {}, kubectl: { subcommands: ['exec'] } } };
const { refuse, allow } = shellVerdicts(BLOCK);
const WHY = /masking reads .*say rewrites: true in this program's grant/;

before(async () => {
  await initShellParser();
});

test('programs whose job is to rewrite text are refused', () => {
  refuse([
    'cut -d= -f2 /srv/app/.env', 'cut -c13- /srv/app/.env', 'cat /srv/app/.env | tr -d =', "cat /srv/app/.env | tr A-Za-z N-ZA-Mn-za-m", 'rev /srv/app/.env',
    'fold -w 12 /srv/app/.env', 'fmt /srv/app/app.yaml', "paste -s -d' ' /srv/app/app.yaml", 'column /srv/app/app.yaml', 'pr -t -2 /srv/app/app.yaml',
    'join -t= -o 1.2 /srv/app/.env /srv/app/.env', 'base64 /srv/app/.env', 'base32 /srv/app/.env', 'basenc --base16 /srv/app/.env', 'xxd /srv/app/.env',
    'od -c /srv/app/.env', 'hexdump -C /srv/app/.env', 'hd /srv/app/.env', 'iconv -t UTF-16 /srv/app/.env', 'dd if=/srv/app/.env bs=1 skip=12', 'dd if=/srv/app/.env of=/srv/app/x conv=ucase',
    'gcut -d= -f2 /srv/app/.env', 'gbase64 /srv/app/.env', 'mlr --inidx --ifs = cut -f 2 /srv/app/.env', 'gron /srv/app/config.json',
    'openssl base64 -in /srv/app/.env', 'openssl enc -base64 -in /srv/app/.env', 'openssl rsa -in /srv/app/key.pem -text',
  ], WHY);
});

test('sed scripts that change lines are refused, and those that only pick whole lines pass', () => {
  refuse(["sed 's/.*=//' /srv/app/.env", "sed -n 's/^DB_PASSWORD=//p' /srv/app/.env", "sed 'y/=/ /' /srv/app/.env", "sed -e 1p -e 's/=/ /' /srv/app/.env",
    "sed -n l /srv/app/.env", "sed --debug 1p /srv/app/.env", "sed -n '/PASS/{N;p}' /srv/app/.env",
    "sed -n '/[/]/s/=/ /p' /srv/app/.env", "sed G /srv/app/.env", "sed '1!G;h;$!d' /srv/app/.env"], /sed runs a script/);
  allow(["sed -n '1,5p' /srv/app/app.log", "sed '/^#/d' /srv/app/app.ini", 'sed 10q /srv/app/app.log', "sed -n '/start/,/end/p' /srv/app/app.log",
    "sed -n -e '2p' -e '$p' /srv/app/app.log", "sed -n '\\,x,p' /srv/app/app.log", "sed -nE '/^[a-z]+/Ip' /srv/app/app.log", "sed -n '0~4{p}' /srv/app/a",
    "sed '1!d' /srv/app/a", 'sed = /srv/app/a', "sed -n '2,+3p;$=' /srv/app/a"]);
});

test('awk programs that print parts of lines are refused, and those that only pick whole lines pass', () => {
  refuse(["awk -F= '{print $2}' /srv/app/.env", "awk '{print $1}' /srv/app/.env", "awk '{sub(/=/,\" \")}1' /srv/app/.env", "awk '$2=\"\"' /srv/app/.env",
    "awk 'sub(/=/,\" \")' /srv/app/.env", 'awk -v RS== 1 /srv/app/.env', "awk -v ORS=' ' 1 /srv/app/.env",
    "awk 'BEGIN{FS=\"=\"} {print $2}' /srv/app/.env", "awk '{print substr($0, 13)}' /srv/app/.env", "awk 'NR/2' /srv/app/.env", "awk '{$1=$1}1' /srv/app/.env",
    "gawk -e 1 /srv/app/.env", "awk '{print $01}' /srv/app/.env"], /awk runs a program/);
  allow(["awk 'NR<5' /srv/app/app.log", "awk '/ERROR/' /srv/app/app.log", "awk -F: '$3 > 500 { print }' /srv/app/passwd", "awk 'NR%2==0{print $0}' /srv/app/a",
    "awk '/a/,/b/' /srv/app/a", "awk 'FNR==1 || $1 ~ /^x/' /srv/app/a", "awk -F= 'NF>1 && !($1 ~ \"x\")' /srv/app/a", "awk 1 /srv/app/a"]);
});

test('jq and yq print a selection unless the filter is .', () => {
  refuse(['jq -r .db.password /srv/app/config.json', 'jq .db.password /srv/app/config.json', 'jq --stream -c . /srv/app/config.json', 'jq -r . /srv/app/c.json',
    "jq '.[]' /srv/app/c.json", 'yq .db.password /srv/app/c.yaml', 'jq /srv/app/c.json'], /prints what its filter selects/);
  allow(['jq . /srv/app/config.json', 'jq -c . /srv/app/config.json', 'jq -S --tab . /srv/app/config.json', 'yq . /srv/app/c.yaml']);
});

test('the same without paths: (an operand that assigns, yq naming its command)', () => {
  refuse(['awk 1 RS== /srv/app/.env', 'awk 1 -v RS== /srv/app/.env'], /awk runs a program/, { programs: { awk: {} } });
  refuse(['yq e .db.password /srv/app/c.yaml'], /prints what its filter selects/, { programs: { yq: {} } });
  refuse(["sd '.*=' '' /srv/app/.env"], WHY, { programs: { sd: {} } });
});

test('in a pipeline, behind ssh and in the command a hop runs, too', () => {
  refuse(['cat /srv/app/.env | cut -d= -f2', 'grep PASS /srv/app/.env | rev', 'ssh h cut -d= -f2 /srv/app/.env', "ssh h 'cat /srv/app/.env | base64'",
    'kubectl exec pod -- cut -d= -f2 /srv/app/.env', 'cat /srv/app/config.json | jq -r .password'], WHY);
});

test('programs that keep lines whole are not touched', () => {
  allow(['cat /srv/app/.env', 'grep -n PASS /srv/app/.env', 'head -n 3 /srv/app/.env', 'tail -n 2 /srv/app/.env', 'sort -t= -k2 /srv/app/.env', 'uniq /srv/app/.env',
    'tac /srv/app/.env', 'strings /srv/app/.env', 'expand /srv/app/app.ini', 'nl /srv/app/.env', 'cmp /srv/app/a /srv/app/b', 'openssl x509 -in /srv/app/c.pem -noout -text',
    'openssl version', 'dd if=/srv/app/a of=/srv/app/b bs=4k count=1']);
});

test('colrm, unexpand, numfmt and kubectl output formats that select values are refused', () => {
  refuse(['cat /srv/app/.env | colrm 1 12', 'unexpand -a -t 4 /srv/app/app.yaml', 'cat /srv/app/app.log | numfmt --field=2 --from-unit=10',
    'gnumfmt --to=si /srv/app/a'], WHY);
  const K = { programs: { kubectl: { subcommands: ['get', 'config'] } } };
  refuse(["kubectl get secret db -o jsonpath='{.data.password}'", "kubectl get secret db -ojsonpath='{.data}'", "kubectl get secret db --output='go-template={{.data}}'",
    'kubectl get secret db -o custom-columns=P:.data.password', "kubectl get secret db --template='{{.data}}'", "kubectl get secret db -Ao=jsonpath='{.data}'",
    'kubectl get secret db -o template --template x', "kubectl config view --raw -o jsonpath='{.users[0].user.token}'"], /kubectl prints what its output format selects/, K);
  allow(['kubectl get pods -o wide', 'kubectl get secret db -o yaml', 'kubectl get cm -ojson', 'kubectl get pods -n observability', 'kubectl get pods -l role=frontend -o name'], K);
  allow(["kubectl get secret db -o jsonpath='{.data}'"], { programs: { kubectl: { subcommands: ['get'], rewrites: true } } });
});

test('tac -s is an option: refused unless allow_flags lists it', () => {
  refuse(['tac -s = /srv/app/.env', 'tac --separator== /srv/app/.env', 'tac -rs = /srv/app/.env'], /tac (-s|--separator) .*allow_flags/);
  allow(['tac -s = /srv/app/.env'], { programs: { tac: { ...P, allow_flags: ['-s'] } } });
});

test('nl -s and cmp -l/-b are options: refused unless allow_flags lists them', () => {
  refuse(["nl -s '' /srv/app/.env", 'nl --number-separator=x /srv/app/.env'], /nl (-s|--number-separator) .*allow_flags/);
  refuse(['cmp -l /srv/app/.env /dev/zero', 'cmp -b /srv/app/.env /srv/app/x', 'cmp --verbose /srv/app/.env /srv/app/x'], /cmp (-[lb]|--verbose) .*allow_flags/);
  allow(["nl -s '' /srv/app/.env"], { programs: { nl: { ...P, allow_flags: ['-s'] } } });
});

test('rewrites: true is the grant author\'s opt-in, for that program only', () => {
  const B = { pipelines: true, programs: { cat: P, cut: { ...P, rewrites: true }, sed: { ...P, rewrites: true }, jq: { ...P, rewrites: true }, awk: { ...P, rewrites: false } } };
  allow(['cut -d= -f2 /srv/app/.env', 'cat /srv/app/.env | cut -f1', "sed 's/=/ /' /srv/app/.env", 'jq -r .name /srv/app/c.json'], B);
  refuse(["awk -F= '{print $2}' /srv/app/.env"], /awk runs a program/, B);
  const compile = (b: unknown, effect: 'allow' | 'deny' = 'allow') => () => shellCondition.compile(b, { id: 'r', effect });
  assert.throws(compile({ programs: { cat: { rewrites: true } } }), /rewrites: is for an allow's grant of a program that rewrites text .*not cat/);
  assert.throws(compile({ programs: { cut: { rewrites: true } } }, 'deny'), /not a deny/);
});
