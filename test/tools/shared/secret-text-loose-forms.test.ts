/**
 * Name-value forms a red-team pass found printed bare: a bare secret word then a blank
 * (`Password x`, `password<TAB>x`), Dockerfile's legacy `ENV NAME value`, Makefile `:=`, `::=`,
 * `?=`, `+=`, `!=`, URL-encoded `password%3Dx` and bracketed form fields (`user[password]=x`), and
 * a name, its `=` and its value on separate lines (`PASSWORD` / `=` / `x`, ini `password =` then
 * an indented value, a properties `password=\` continuation). Each look-alike (prose with the
 * word password, sshd's `PasswordAuthentication no`, a Dockerfile's other ENV) stays, and each
 * new matcher stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const same = (texts: string[]) => {
  for (const text of texts) assert.equal(maskSecretText(text), text, text);
};
const masks = (pairs: [string, string][]) => {
  for (const [text, want] of pairs) {
    const count = { n: 0 };
    assert.equal(maskSecretText(text, count), want, text);
    assert.ok(count.n > 0, `counted: ${text}`);
  }
};

test('already covered: .netrc, .pgpass, redis directives, export and declare -x', () => {
  masks([
    ['machine h login u password hunter2', 'machine h login u password ***'],
    ['db.example.com:5432:app:alice:hunter2', 'db.example.com:5432:app:alice:***'],
    ['requirepass hunter2\nmasterauth hunter2', 'requirepass ***\nmasterauth ***'],
    ['export DB_PASSWORD=hunter2', 'export DB_PASSWORD=***'],
    ['declare -x DB_PASSWORD="hunter2"', 'declare -x DB_PASSWORD=***'],
    ['password:\n  hunter2', 'password:\n  ***'],
  ]);
});

test('a bare secret word, a blank or tab, then one value: key-value config lines', () => {
  masks([
    ['Password hunter2', 'Password ***'],
    ['\tPassword\thunter2\n', '\tPassword\t***\n'],
    ['password hunter2', 'password ***'],
    ['PASSWORD\thunter2', 'PASSWORD\t***'],
    ['port 25\npassword "hunter 2"\nuser bob\n', 'port 25\npassword ***\nuser bob\n'],
    ['password hunter2;', 'password ***'],
    ['password hunter2 # rotated', 'password ***'],
    ['passphrase hunter2', 'passphrase ***'],
    ['secret hunter2', 'secret ***'],
    ['token hunter2', 'token ***'],
    ['/etc/msmtprc:7:password hunter2', '/etc/msmtprc:7:password ***'],
  ]);
  same([
    'Enter password for user:',
    'password authentication failed for user "alice"',
    'FATAL:  password authentication failed',
    '# password is rotated daily',
    'Password expires in 5 days',
    'token expired at noon',
    'PasswordAuthentication no',
    'PermitEmptyPasswords no',
    'password',
    'password {',
  ]);
});

test('Dockerfile: the legacy ENV NAME value form, ARG with a default', () => {
  masks([
    ['FROM alpine\nENV DB_PASSWORD hunter2\nENV DB_HOST db\n', 'FROM alpine\nENV DB_PASSWORD ***\nENV DB_HOST db\n'],
    ['ENV DB_PASSWORD "hunter 2"', 'ENV DB_PASSWORD ***'],
    ['env API_TOKEN hunter2', 'env API_TOKEN ***'],
    ['ONBUILD ENV API_TOKEN hunter2', 'ONBUILD ENV API_TOKEN ***'],
    ['ENV DB_PASSWORD \\\n    hunter2\n', 'ENV DB_PASSWORD ***\n'],
    ['ENV DB_PASSWORD hunter2\\', 'ENV DB_PASSWORD ***'],
    ['ARG DB_PASSWORD=hunter2', 'ARG DB_PASSWORD=***'],
    ['ENV A=1 DB_PASSWORD=hunter2', 'ENV A=1 DB_PASSWORD=***'],
  ]);
  same(['ENV DB_HOST localhost', 'ENV PATH /usr/local/bin:$PATH', 'ARG DB_PASSWORD', 'ENV TOKEN_TTL 3600']);
});

test('Makefile assignments: :=, ::=, :::=, ?=, +=, !=, with override and export', () => {
  masks([
    ['DB_PASSWORD := hunter2', 'DB_PASSWORD := ***'],
    ['API_KEY ?= hunter2', 'API_KEY ?= ***'],
    ['API_KEY += hunter2', 'API_KEY += ***'],
    ['GITHUB_TOKEN:=hunter2', 'GITHUB_TOKEN:=***'],
    ['DB_PASSWORD::= hunter2', 'DB_PASSWORD::= ***'],
    ['DB_PASSWORD :::= hunter2', 'DB_PASSWORD :::= ***'],
    ['API_KEY != cat hunter2.txt', 'API_KEY != ***'],
    ['override DB_PASSWORD := hunter2', 'override DB_PASSWORD := ***'],
    ['export DB_PASSWORD := hunter2', 'export DB_PASSWORD := ***'],
    ['Makefile:3:API_KEY ?= hunter2', 'Makefile:3:API_KEY ?= ***'],
  ]);
  same(['CC := gcc', 'CFLAGS += -O2', 'TOKEN_TTL ?= 3600', 'build: deps']);
});

test('URL-encoded names and values, bracketed form fields', () => {
  masks([
    ['GET /login?user=a&password%3Dhunter2 HTTP/1.1', 'GET /login?user=a&password%3D*** HTTP/1.1'],
    ['q=password%3Dhunter2%26x%3D1', 'q=password%3D***%26x%3D1'],
    ['q=password%3Ahunter2', 'q=password%3A***'],
    ['next=%2Fcb%3Fuser%3Da%26api_key%3Dhunter2', 'next=%2Fcb%3Fuser%3Da%26api_key%3D***'],
    ['data=%7B%22password%22%3A%22hunter2%22%7D', 'data=%7B%22password%22%3A%22***%22%7D'],
    ['u=password%253Dhunter2', 'u=password%253D***'],
    ['user[password]=hunter2&user[name]=bob', 'user[password]=***&user[name]=bob'],
    ['user%5Bpassword%5D%3Dhunter2%26x%3D1', 'user%5Bpassword%5D%3D***%26x%3D1'],
  ]);
  same(['q=hello%3Dworld', 'redirect=%2Fhome%3Ftab%3Dsettings', 'sig=abc%3D%3D', 'user[name]=bob', 'token_count%3D12']);
});

test('a name, its = and its value on separate lines', () => {
  masks([
    ['PASSWORD\n=\nhunter2\nHOST\n=\ndb\n', 'PASSWORD\n=\n***\nHOST\n=\ndb\n'],
    ['password\n= hunter2', 'password\n= ***'],
    ['[db]\npassword =\n    hunter2\nhost = db\n', '[db]\npassword =\n    ***\nhost = db\n'],
    ['PASSWORD=\nhunter2', 'PASSWORD=\n***'],
    ['password=\\\n  hunter2\nuser=bob', 'password=***\nuser=bob'],
    ['password=abc\\\n  hunter2\\\n  more\nuser=bob', 'password=***\nuser=bob'],
    ['password: >-\n  hunter2', 'password: ***'],
  ]);
  same([
    'DB_PASSWORD=\nDB_HOST=localhost\n',
    'PASSWORD=\n# set in CI\n',
    'PASSWORD=\n\nHOST=db',
    'password\nreset\n',
    'HOST =\n    db\n',
  ]);
});

test('the new matchers stay linear', () => {
  const mask = (t: string) => maskSecretText(t);
  assertLinear('bare word value', (n) => 'password ' + 'a'.repeat(n), mask);
  assertLinear('env legacy', (n) => 'ENV DB_PASSWORD ' + 'a '.repeat(n / 2), mask);
  assertLinear('env legacy backslashes', (n) => 'ENV DB_PASSWORD a' + '\\'.repeat(n) + 'x', mask);
  assertLinear('make ops', repeatedTo('A_KEY ?= '), mask);
  assertLinear('encoded names', repeatedTo('&password%25'), mask);
  assertLinear('encoded values', (n) => 'password%3D' + '%41'.repeat(n / 3), mask);
  assertLinear('bracket names', (n) => 'a' + '[b]'.repeat(n / 3), mask);
  assertLinear('split lines', repeatedTo('PASSWORD\n=\n'), mask);
  assertLinear('continuations', (n) => 'password=' + 'a\\\n'.repeat(n / 3), mask);
  assertLinear('open bracket names', (n) => ' a[' + 'b]'.repeat(n / 2), mask);
  assertLinear('empty assignments', repeatedTo('PASSWORD=\n'), mask);
  assertLinear('encoded brackets', (n) => '&a' + '%255B'.repeat(n / 5) + '%3', mask);
});
