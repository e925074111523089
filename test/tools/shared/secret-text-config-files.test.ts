/**
 * Config-file formats whose secret follows its key with only blanks, or sits at a position: Redis
 * `requirepass`/`masterauth`, `.netrc`, `.pgpass`, Postfix `sasl_passwd`, htpasswd and shadow
 * hashes, Samba `smbpasswd` hashes, a dotted or underscored properties key with a blank
 * (`db.password hunter2`, keepalived `auth_pass`), wpa_supplicant `psk=`. Each was shown whole by
 * `cat FILE` before; each look-alike (ordinary colon text, prose, nginx directives) stays as it
 * is, and each new matcher stays linear.
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

test('redis.conf: requirepass, masterauth, sentinel auth-pass and ACL passwords are masked', () => {
  masks([
    ['requirepass hunter2', 'requirepass ***'],
    ['# comment\nrequirepass "hunter 2"\nport 6379\n', '# comment\nrequirepass ***\nport 6379\n'],
    ['  masterauth hunter2\n', '  masterauth ***\n'],
    ['MASTERAUTH hunter2', 'MASTERAUTH ***'],
    // grep's file and line prefixes
    ['/etc/redis/redis.conf:1043:requirepass hunter2', '/etc/redis/redis.conf:1043:requirepass ***'],
    ['sentinel auth-pass mymaster hunter2', 'sentinel auth-pass mymaster ***'],
    ['user alice on >hunter2 ~cached:* +get', 'user alice on >*** ~cached:* +get'],
    ['user default on nopass >hunter2 >other2 ~* +@all', 'user default on nopass >*** >*** ~* +@all'],
  ]);
  same([
    '# requirepass foobared',
    'requirepass',
    'port 6379\nbind 127.0.0.1\nprotected-mode yes',
    // a `>` word in prose or a shell redirect is no ACL
    'echo hi >out.txt',
    'user alice logged in from >host',
  ]);
});

test('.netrc: password and account tokens in machine entries, on one line or several', () => {
  masks([
    ['machine db.example.com login alice password hunter2', 'machine db.example.com login alice password ***'],
    ['machine h\n  login alice\n  password hunter2\n', 'machine h\n  login alice\n  password ***\n'],
    ['default login anonymous password me@example.com', 'default login anonymous password ***'],
    ['machine a login u password p1 machine b login v password p2', 'machine a login u password *** machine b login v password ***'],
    ['machine h login u account acct9 password "pass word"', 'machine h login u account *** password ***'],
  ]);
  same([
    // no machine entry in the text: prose
    'password changed for alice\naccount locked',
    'machine learning is fun\nthe password policy is strict',
  ]);
});

test('.pgpass: the fifth field of a host:port:db:user:password line', () => {
  masks([
    ['db.example.com:5432:app:alice:hunter2', 'db.example.com:5432:app:alice:***'],
    ['*:*:*:alice:hunter2\nlocalhost:5432:*:bob:pw\\:with\\:colons\n', '*:*:*:alice:***\nlocalhost:5432:*:bob:***\n'],
    ['/home/u/.pgpass:2:db:5432:app:alice:hunter2', '/home/u/.pgpass:2:db:5432:app:alice:***'],
    // `grep -n` on one file: the line number before the host (it passed unmasked).
    ['2:db:5432:app:alice:hunter2\n3:*:*:*:bob:pw2', '2:db:5432:app:alice:***\n3:*:*:*:bob:***'],
  ]);
  same([
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:*:1:1::0:0:Owner of many system processes:/root:/usr/sbin/nologin',
    '10:20:30',
    'fe80::1:2:3',
    '00:1a:2b:3c:4d:5e',
    'app.log:12:status ok',
    'Note: host:port:db:user:password is the format',
    'db.example.com:5432:app:alice:',
    '12:root:x:0:0:root:/root:/bin/bash',
    '7:daemon:*:1:1::0:0:Owner of many system processes:/root:/usr/sbin/nologin',
  ]);
});

test('Postfix sasl_passwd: the password after user: beside a relay host', () => {
  masks([
    ['[smtp.gmail.com]:587 alice@gmail.com:hunter2', '[smtp.gmail.com]:587 alice@gmail.com:***'],
    ['smtp.example.com   alice:hunter2\n@example.com bob:pw2\n', 'smtp.example.com   alice:***\n@example.com bob:***\n'],
    ['bob@example.com bob:hunter2', 'bob@example.com bob:***'],
  ]);
  same([
    // transport maps, host:port pairs, ssh_config
    'example.com smtp:[relay.example.com]:587',
    '.example.com relay:mail.example.com',
    'proxy.example.com:3128 10.0.0.1:8080',
    'ProxyJump bastion:22',
    'image nginx:1.25',
  ]);
});

test('htpasswd, shadow and smbpasswd hashes are masked; passwd lines and locked accounts stay', () => {
  masks([
    ['alice:$apr1$abcd$0123456789abcdefghijkl', 'alice:***'],
    ['bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ncarol:$2y$05$abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijkl', 'bob:***\ncarol:***'],
    ['alice:$6$salt$hashhashhash:19000:0:99999:7:::', 'alice:***:19000:0:99999:7:::'],
    [
      'alice:1000:0123456789ABCDEF0123456789ABCDEF:FEDCBA9876543210FEDCBA9876543210:[U          ]:LCT-5F000000:',
      'alice:1000:***:***:[U          ]:LCT-5F000000:',
    ],
  ]);
  same([
    'root:x:0:0:root:/root:/bin/bash',
    'alice:!:19000:0:99999:7:::',
    'bin:*:19000:0:99999:7:::',
    'nobody:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:[DU         ]:LCT-00000000:',
    'price: $5 per unit',
    'echo $HOME:$PATH',
  ]);
});

test('properties and keepalived keys with a blank, wpa_supplicant psk', () => {
  masks([
    ['db.password hunter2', 'db.password ***'],
    ['spring.datasource.password\thunter2', 'spring.datasource.password\t***'],
    ['    auth_pass hunter2', '    auth_pass ***'],
    ['app.conf:3:api_token hunter2', 'app.conf:3:api_token ***'],
    ['network={\n  ssid="home"\n  psk="hunter2hunter2"\n}', 'network={\n  ssid="home"\n  psk=***\n}'],
    ['wpa_psk=hunter2', 'wpa_psk=***'],
  ]);
  same([
    // nginx directives beside secret words: settings, not secrets (the last word is not a secret word)
    'ssl_session_cache shared:SSL:10m;',
    'auth_basic "Restricted";',
    'ssl_certificate_key /etc/ssl/private/site.key;',
    // prose and single words
    'password reset for alice',
    'Token expired, please log in',
    // a count
    'max_tokens 4096',
    'pskel is not a key',
  ]);
});

test("grep context lines (FILE-12-) and numbered WEP keys are read like the plain lines", () => {
  masks([
    // `grep -rn -C1` prints a context line as FILE-LINE-TEXT: the directive's secret is masked there too
    ['/etc/redis/redis.conf-1043-requirepass hunter2', '/etc/redis/redis.conf-1043-requirepass ***'],
    ['app-v2.conf-3-api_token hunter2', 'app-v2.conf-3-api_token ***'],
    ['/etc/keepalived/keepalived.conf-12-    auth_pass 1111', '/etc/keepalived/keepalived.conf-12-    auth_pass ***'],
    // wpa_supplicant's WEP keys carry their slot's digit
    ['network={\n  wep_key0="hunter2hunter2"\n  wep_key1=0102030405\n  wep_tx_keyidx=0\n}', 'network={\n  wep_key0=***\n  wep_key1=***\n  wep_tx_keyidx=0\n}'],
  ]);
  same([
    // prose and a grep context line without a secret word stay
    'app.conf-3-port 6379',
    'release-2-final notes here',
    'wep_tx_keyidx=0',
  ]);
});

test('.git-credentials and other URLs: the password in the user info is masked, the rest stays', () => {
  masks([
    ['https://alice:hunter2@git.example.com\n', 'https://alice:***@git.example.com\n'],
    ['origin\thttps://x-access-token:ghs_hunter2@github.com/o/r.git (fetch)', 'origin\thttps://x-access-token:***@github.com/o/r.git (fetch)'],
    ['proxy=http://u:p@ss@proxy.internal:3128', 'proxy=http://u:***@proxy.internal:3128'],
  ]);
  same([
    'https://git.example.com/o/r.git',
    'ssh://git@github.com:22/o/r.git',
    'git@github.com:o/r.git',
    'https://example.com/users/@alice',
    'https://alice@example.com/',
    'see https://example.com:8443/a?b=c@d',
  ]);
});

test('the config-file matchers stay linear on hostile text', () => {
  const mask = (t: string) => maskSecretText(t);
  assertLinear('pgpass colons', repeatedTo('a:1:b:c:'), mask);
  assertLinear('pgpass escapes', (n) => 'a:1:b:c:' + '\\'.repeat(n) + ':', mask);
  assertLinear('directive blanks', (n) => 'db.password' + ' '.repeat(n) + '=', mask);
  assertLinear('netrc tokens', (n) => 'machine h ' + 'password '.repeat(n / 9), mask);
  assertLinear('sasl hosts', (n) => 'a' + '.a'.repeat(n / 2) + ' u:', mask);
  assertLinear('acl words', (n) => 'user a on ' + '>x '.repeat(n / 3), mask);
  assertLinear('url schemes', (n) => ' a://b:' + 'c'.repeat(n), mask);
  assertLinear('url colons', (n) => ' a://' + 'a://:'.repeat(n / 5), mask);
  assertLinear('hash lines', repeatedTo('u:$1$'), mask);
  assertLinear('grep context prefixes', repeatedTo('a-1-'), mask);
  assertLinear('grep context digits', (n) => 'a-' + '1'.repeat(n) + 'x', mask);
});
