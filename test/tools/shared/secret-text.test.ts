/**
 * The named-secret masker shared by ssh_run, kubectl_exec and kubectl_logs: a value is masked
 * however the output cap cuts it, `grep -r`/`grep -rn` file-name prefixes do not hide the
 * name, and the cost on 1 MB of output is printed (not asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_MASK, maskSecretStreams, maskSecretText, secretName } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

test('the kubernetes module still offers the same masker', async () => {
  const clean = await import('../../../tools/kubernetes/clean.js');
  assert.equal(clean.SECRET_MASK, SECRET_MASK);
  assert.equal(clean.secretName, secretName);
});

/** Lines whose value is made of Q only (nothing else holds a Q), one per form. */
const LINES = [
  'DB_PASSWORD=QQQQQQQQ',
  'DB_PASSWORD="QQQQ QQQ\\"QQ"',
  "export API_TOKEN='QQQQ QQQQ'",
  '  password: "QQQQQQQ"',
  '{"level":"info","apiKey": "QQQQ\\"QQQQ","region":"eu"}',
  'curl -s -H "Authorization: Bearer QQQQQQ" https://api',
  'app 123 node server.js --db-password="QQQQ QQQQ" --port 80',
  "run --token 'QQQQ QQQQ' now",
  'gh auth login --with-token <<< QQQQQQ', // a here-string: the token, not `<<<`, is the value
  'GET /x?user=bob&password=QQQQQQ&next=1 200',
  '{auth: "QQQQ QQQ", mode: x}',
];

test('a value cut at any byte (the output cap) is masked to the end', () => {
  for (const line of LINES) {
    const text = `kept line 1\n${line}\nafter\n`;
    assert.ok(!maskSecretText(text).includes('Q'), `whole: ${maskSecretText(text)}`);
    for (let cut = 0; cut <= text.length; cut++) {
      const out = maskSecretText(text.slice(0, cut));
      assert.ok(!out.includes('Q'), `cut at ${cut}: ${JSON.stringify(text.slice(0, cut))} -> ${JSON.stringify(out)}`);
    }
  }
});

test('grep file-name and line-number prefixes do not hide the name', () => {
  const cases: [string, string][] = [
    ['/etc/app/.env:DB_PASSWORD=QQQQ', '/etc/app/.env:DB_PASSWORD=***'],
    ['/etc/app/app.ini:password = QQQQ', '/etc/app/app.ini:password = ***'],
    ['/etc/app/app.ini:12:password = QQQQ', '/etc/app/app.ini:12:password = ***'],
    ['/etc/app/app.ini-13-api_key: QQQQ', '/etc/app/app.ini-13-api_key: ***'],
    ['3:password = QQQQ', '3:password = ***'],
    ['app.yaml:  token: QQQQ', 'app.yaml:  token: ***'],
  ];
  for (const [line, want] of cases) assert.equal(maskSecretText(line), want, line);
  // Not a prefix: an image reference or a URL keeps its text.
  for (const kept of ['image: auth-proxy:1.2', 'see https://example.com/a:b', '/var/log/app.log:ERROR connection refused']) assert.equal(maskSecretText(kept), kept);
});

// Many `-12-` splits in one line: every split used to be retried to the line's end (quadratic).
test('a grep-like prefix with many -N- splits costs linear time', () => {
  for (const unit of ['a-1-', 'a-1-a', '-1-a']) assertLinear(unit, repeatedTo(unit), maskSecretText);
  // The same longest-prefix reading as before: a name holding -N- after a colon, a blank or export.
  const cases: [string, string][] = [
    ['/etc/a-b/app.ini-13-my-2-token: QQ', '/etc/a-b/app.ini-13-my-2-token: ***'],
    ['f.env:DB-1-PASSWORD=QQ', 'f.env:DB-1-PASSWORD=***'],
    ['F-1-export a-2-password=QQ', 'F-1-export a-2-password=***'],
    ['F-1- "a-2-password=QQ', 'F-1- "a-2-password=***'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
});

test('env output: the shell\'s working directories stay, a PWD that is not a path is masked', () => {
  assert.equal(maskSecretText('PWD=/srv/app\nOLDPWD=/\nDB_PWD=QQ\n'), 'PWD=/srv/app\nOLDPWD=/\nDB_PWD=***\n');
  assert.equal(maskSecretText('Driver={PostgreSQL};UID=app;PWD=QQQQ;'), 'Driver={PostgreSQL};UID=app;PWD=***;');
  assert.equal(maskSecretText('pwd=QQQQ'), 'pwd=***');
});

test('maskSecretStreams counts what it masked and leaves clean streams as they are', () => {
  const clean = { stdout: 'total 0\nboot ok\n', stderr: '' };
  const a = maskSecretStreams(clean);
  assert.equal(a.masked, 0);
  assert.deepEqual(a.streams, clean);
  const b = maskSecretStreams({ stdout: 'DB_PASSWORD=QQ\nAPI_TOKEN=QQ\n', stderr: 'warn: --password QQ\n' });
  assert.equal(b.masked, 3);
  assert.deepEqual(b.streams, { stdout: 'DB_PASSWORD=***\nAPI_TOKEN=***\n', stderr: 'warn: --password ***\n' });
});

test('cost on 1 MB of output (printed, not asserted)', (t) => {
  const MB = 1 << 20;
  const fill = (line: string) => line.repeat(Math.ceil(MB / line.length)).slice(0, MB);
  const inputs: Record<string, string> = {
    'plain log': fill('2024-05-01T10:00:00Z INFO request served in 12ms status=200 path=/health\n'),
    'env, one secret in 4 lines': fill('HOME=/root\nPATH=/usr/bin:/bin\nDB_PASSWORD=hunter2\nLANG=C.UTF-8\n'),
    'one 1 MB line': 'x'.repeat(MB),
    'JSON lines': fill('{"level":"info","msg":"ok","user":"bob","apiKey":"abc"}\n'),
  };
  for (const [name, text] of Object.entries(inputs)) {
    maskSecretText(text.slice(0, 1000));
    const t0 = performance.now();
    maskSecretText(text);
    t.diagnostic(`maskSecretText on 1 MB (${name}): ${(performance.now() - t0).toFixed(1)} ms`);
  }
});
