/**
 * secret-encodings.ts, red team: a Secret value's base64 or hex reached the output whole, its
 * pieces split by characters other than ASCII whitespace, or with numbers between its lines:
 * `base64 -w8 | paste -sd,`, `tr '\n' '|'`, quotes around each piece, a no-break space,
 * `jq -Rs .`'s `\n` escapes, `xxd -i`'s `0x68, 0x75`, `cat -n`, `nl`, `grep -n`, and the hex
 * dumps with offsets and a text column (`xxd`, `hexdump -C`, `od -tx1`, `od -Ax -tx1z`), and its
 * bytes as decimal or octal numbers (`od -An -tu1`, `od -b`, `\150\165` escapes). A run
 * was cut by any character but ASCII whitespace, so each piece was decoded alone, and a dump's
 * offsets and text column (digits and letters of both alphabets) sat between its bytes. Now
 * every character outside the alphabet is skipped (encoded-runs.ts), and a second view leaves
 * out line numbers, offsets and text columns (numbered-lines.ts); a dump's text column on the
 * value's last line is masked with it; numbers of 1 to 3 digits up to 255 are read as bytes.
 * The outputs are made by the real programs.
 * Legit neighbours: CSV, numbered listings, hex dumps, `0x` and number lists of other data stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { maskSecretValues, secretValueMasker } from '../../../tools/kubernetes/secret-env.js';
import { mulberry32 } from '../../support/prng.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const rand = mulberry32(0x73657061);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const wrap = (s: string, cols: number) => s.replace(new RegExp(`.{${cols}}`, 'g'), '$&\n').replace(/\n$/, '');

const VALUE = 'hunter2-Kspc?>~secret-token';
/** A token of hex digits: a hex dump's text column of it is hex digits too. */
const HEXTOKEN = '3f9a0c1d2e4b5a69788c0d1e2f3a4b5c';
const KEY = `-----BEGIN PRIVATE KEY-----\n${wrap(randomBytes(600).toString('base64'), 64)}\n-----END PRIVATE KEY-----\n`;

/** The output of a real pipeline reading the value on its standard input. */
const sh = (script: string, input: string | Buffer): string => execFileSync('sh', ['-c', script], { input, encoding: 'utf8' });

/** Decoded at every alignment from base64 or hex, after leaving out everything but the alphabet: the text's bytes. */
function decodings(escaped: string): string[] {
  const out: string[] = [];
  const text = escaped.replace(/\\[nrtbfv]/g, '');
  const b = text.replace(/[^A-Za-z0-9+/_-]/g, '');
  for (let s = 0; s < 4; s++) out.push(Buffer.from(b.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  const h = text.replace(/(?<![0-9A-Za-z])0[xX](?=[0-9a-fA-F])/g, '').replace(/[^0-9a-fA-F]/g, '');
  for (let s = 0; s < 2; s++) out.push(Buffer.from(h.slice(s).replace(/(..)?.$/, '$1'), 'hex').toString('latin1'));
  // Bytes as numbers, decimal or octal, one a number; any other number breaks them.
  for (const radix of [10, 8]) {
    const byte = (x: string) => (x.length <= 3 && (radix === 10 || !/[89]/.test(x)) && parseInt(x, radix) <= 255 ? String.fromCharCode(parseInt(x, radix)) : '\u0100');
    out.push((text.match(/[0-9]+/g) ?? []).map(byte).join(''));
  }
  return out;
}

/**
 * Does the text show 8 bytes of the value in a row: decoded as it is, or with each line's
 * leading number and a dump's text column left out, or in a text column itself?
 */
function shows(text: string, value: string): boolean {
  const v = Buffer.from(value).toString('latin1');
  const grams: string[] = [];
  for (let i = 0; i + 8 <= v.length; i += 2) grams.push(v.slice(i, i + 8));
  const lines = text.split('\n');
  const bare = lines.map((l) => l.replace(/^\s*[0-9a-fA-F]+[:\t ]/, '').replace(/ {2}[|>].*$/, '').replace(/^([0-9a-f]{4} )+[0-9a-f]{2,4} {2,}.*$/, (m) => m.replace(/ {2,}.*$/, ''))).join('\n');
  const columns = lines.map((l) => /(?: {2}[|>](.*)[|<]| {2,}(\S.{0,15}))$/.exec(l)?.slice(1).join('') ?? '').join('');
  const texts = [...decodings(text), ...decodings(bare), columns];
  return texts.some((t) => grams.some((g) => t.includes(g)));
}

/** Pipelines that print the value on their input, each one encoding split by separators or numbered. */
const ATTACKS = [
  'base64 -w8 | paste -sd,',
  "base64 -w8 | tr '\\n' '|'",
  "base64 -w8 | sed 's/.*/\"&\"/' | paste -sd,",
  "base64 -w8 | tr '\\n' ';'",
  'base64 -w8 | jq -Rs .',
  'base64 -w8 | jq -R . | paste -sd,',
  'base64 -w 8 | cat -n',
  'base64 -w 12 | nl',
  "base64 -w 8 | grep -n ''",
  'xxd -p -c 4 | paste -sd,',
  "xxd -p -c 3 | sed 's/.*/[&]/' | paste -sd:",
  'xxd -i',
  "od -An -tx1 | tr -s ' \\n' ','",
  "xxd -p -c1 | sed 's/^/\\\\x/' | paste -sd ''",
  "xxd -p -c1 | sed 's/^/%/' | paste -sd ''",
  'xxd',
  'xxd -g1 -u',
  'xxd -c 8',
  'hexdump -C',
  'od -tx1',
  'od -Ax -tx1z',
  'od -An -tu1',
  'od -tu1',
  'od -b',
  "od -An -tu1 -v | tr -s ' \\n' ','",
  "od -An -to1 -v | tr -s ' ' '\\n' | sed '/^$/d; s/^/\\\\/' | paste -sd ''",
];

test('a value\'s base64 or hex split by commas, pipes, quotes, escapes, 0x prefixes, or numbered lines and hex dumps: masked', () => {
  for (const value of [VALUE, HEXTOKEN, KEY]) {
    for (const attack of ATTACKS) {
      const out = sh(`printf 'before\\n'; ${attack}; printf 'after\\n'`, value);
      assert.ok(shows(out, value), `${attack}: the attack shows the value unmasked`);
      const r = maskSecretValues({ o: out }, [value], false);
      assert.ok(!shows(r.streams.o, value), `${attack} of ${value.slice(0, 12)}: ${r.streams.o.slice(0, 400)}`);
      assert.ok(r.masked >= 1, attack);
      assert.equal(r.streams.o.split('\n').length, out.split('\n').length, `${attack}: the line count stays`);
      assert.match(r.streams.o, /^before\n/, attack);
      assert.match(r.streams.o, /after\n$/, attack);
    }
  }
});

test('pieces joined by a no-break space, an em space, an ideographic space, or a zero-width space: masked', () => {
  for (const sep of ['\u00a0', '\u2003', '\u3000', '\u200b', '\u202f', '\ufeff', ' \u00a0 ']) {
    for (const enc of [Buffer.from(VALUE).toString('base64'), Buffer.from(VALUE).toString('hex')]) {
      const text = `v: ${wrap(enc, 6).replace(/\n/g, sep)}\n`;
      const r = maskSecretValues({ o: text }, [VALUE], false);
      assert.equal(r.streams.o, 'v: ***\n', JSON.stringify(sep));
    }
  }
});

test('the value\'s bytes as a list of numbers (a program printing its bytes, `printf %d,`): masked; the list around it kept', () => {
  const bytes = [...Buffer.from(`k=${VALUE}`)];
  for (const text of [`[${bytes.join(', ')}]\n`, `${bytes.join(',')},\n`, `{"data":[${bytes.join(',')}]}\n`]) {
    const r = maskSecretValues({ o: text }, [VALUE], false);
    assert.ok(!shows(r.streams.o, VALUE), r.streams.o);
    assert.ok(r.streams.o.startsWith(text.slice(0, text.indexOf('61') + 2)), `k= is kept: ${r.streams.o}`);
  }
});

test('a hex dump of the value: its offsets kept before it, every line it touches masked with its text column', () => {
  const out = sh('xxd', VALUE);
  assert.equal(maskSecretValues({ o: out }, [VALUE], false).streams.o, '00000000: ***\n***\n');
  const c = sh('hexdump -C', `ab${VALUE}`);
  assert.equal(maskSecretValues({ o: c }, [VALUE], false).streams.o, '00000000  61 62 ***\n***\n0000001d\n');
});

test('legit neighbours stay: CSV, numbered listings, hex dumps, 0x lists and escaped JSON of other data', () => {
  const values = [VALUE, HEXTOKEN, KEY, 'abcd1234', '31415926'];
  const other = randomBytes(300);
  const texts = [
    'id,name,price,qty\n1,apple,0.50,12\n2,beef,12.99,3\n3,cafe au lait,3.20,100\n',
    sh('cat -n', 'The quick brown fox jumps over the lazy dog.\nA bad cafe had 12 beds in 2024.\n'),
    sh('nl', 'alpha\nbeta\ngamma\n'),
    sh('xxd', other),
    sh('xxd -g1', other),
    sh('hexdump -C', other),
    sh('od -tx1', other),
    sh('od -Ax -tx1z', other),
    sh('xxd -i', other),
    sh('od -An -tu1', other),
    sh('od -b', other),
    sh('seq 1 300 | paste -sd,', ''),
    'PID   %CPU %MEM    VSZ   RSS TTY STAT START   TIME COMMAND\n  1    0.0  0.1 167500 11800 ?   Ss   17:17   0:02 /sbin/init\n 42   12.5  3.2  98304  4096 ?   Sl   17:18  10:11 node server.js\n',
    'inet 10.42.0.17/24 brd 10.42.0.255 scope global eth0\n2026-11-30T17:17:04.123Z GET 200 17 ms 127.0.0.1:8080\n',
    sh('base64 -w 8 | cat -n', other),
    sh('base64 | paste -sd,', other),
    sh('jq -Rs .', 'line one\nline two, with "quotes"\ttab\n'),
    '{"ts":1732990000,"level":"info","msg":"GET /api/v1/items?id=42 200 12ms","bytes":5120}\n',
    'a1,b2,c3,d4|e5|f6;00;11 "22" "33" 0x44 0x55 \\x66\\x77 %88%99\n',
    'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          5d\n',
  ];
  for (const t of texts) {
    const r = maskSecretValues({ o: t }, values, false);
    assert.equal(r.streams.o, t, t.slice(0, 80));
    assert.equal(r.masked, 0);
  }
});

test('masking separated and numbered encodings costs time linear in the output', () => {
  const value = `${'a'.repeat(4096)}b`;
  const masker = secretValueMasker([value, KEY, VALUE]);
  const run = (text: string) => masker({ o: text }, true, true);
  assertLinear('numbered base64 of a near match', repeatedTo(sh('base64 -w 8 | cat -n', 'a'.repeat(600))), run);
  assertLinear('a hex dump of a near match', repeatedTo(sh('xxd', 'a'.repeat(600))), run);
  assertLinear('comma-separated hex of a near match', repeatedTo(`${sh('xxd -p -c 2 | paste -sd,', 'a'.repeat(600))},`), run);
  assertLinear('decimal and octal bytes of a near match', repeatedTo(sh('od -An -tu1 -v; od -b -v', 'a'.repeat(600))), run);
  assertLinear('backslashes before a near match', repeatedTo(`${'\\a'.repeat(300)}\\ x\n`), run);
  assertLinear('escapes and 0x prefixes', repeatedTo('\\n\\u00a0\\x61 0x61, "YWFh",'), run);
});

test('a value printed with backslashes before some of its characters (printf %q, sed escaping every sign): masked with its escapes; other escaped text stays', () => {
  const value = 'p@ss w0rd!(x),y?>~z';
  for (const script of [`printf '%q\\n' "$(cat)"`, "sed 's/[^a-zA-Z0-9]/\\\\&/g'"]) {
    const out = execFileSync('bash', ['-c', `printf 'v='; ${script}; echo; echo end`], { input: value, encoding: 'utf8' });
    assert.ok(!out.includes(value), `${script}: escaped: ${out}`);
    const r = maskSecretValues({ o: out }, [value], false);
    assert.match(r.streams.o, /^v=\*\*\*\n/, `${script}: ${r.streams.o}`);
    assert.match(r.streams.o, /\nend\n$/);
    assert.equal(r.masked, 1);
  }
  const other = execFileSync('bash', ['-c', `printf '%q\\n' 'p@ss w0rd!(y),z' 'C:\\Users\\x' '{"a":"b\\"c"}'`], { encoding: 'utf8' });
  assert.equal(maskSecretValues({ o: other }, [value], false).streams.o, other);
});

test('a backslash before an encoding whose first letter is an escape\'s (`\\b`, `\\n`) hides nothing: the letter is read both ways', () => {
  // 'n' encodes to a leading 'b', '8' to a leading 'O', and 'm' to a leading 'b' in URL-safe too.
  for (const value of ['nothing-to-see-here-42', 'no-secret-here', 'v4lue-of-a-key']) {
    for (const enc of [Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]) {
      for (const text of [`\\${enc}\n`, `x\\${enc}\\n\n`, `"\\${enc}"\n`]) {
        const r = maskSecretValues({ o: text }, [value], false);
        assert.ok(r.masked >= 1, `${text}: ${r.streams.o}`);
        assert.ok(!r.streams.o.includes(enc.slice(2, 10)), `${text}: ${r.streams.o}`);
      }
    }
  }
});
