/**
 * secret-encodings.ts on an encoding that whitespace breaks up in other places than `base64`'s
 * own wrapping: indented lines (a YAML block `key: |`, `sed 's/^/    /'`), `tr '\n' ' '`,
 * `fold -w 20`, `paste -sd' '`, CRLF line ends, tabs, several spaces. A run of base64 or hex
 * was cut by any character outside its alphabet but a bare line break (hex: also one or two
 * spaces), so each piece was decoded alone and the value, which spans them, was never found.
 * Now ASCII whitespace (space, tab, CR, LF) between two characters of the alphabet does not
 * cut a run. Within what is masked, line breaks and each line's leading and trailing blanks
 * are kept; the whitespace between encoded characters on one line is masked with them.
 * Ordinary text (words, `ls -l`, hex dumps of other data) stays as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretValues, secretValueMasker } from '../../../tools/kubernetes/secret-env.js';
import { mulberry32 } from '../../support/prng.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const rand = mulberry32(0x73706163);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const wrap = (s: string, cols: number) => s.replace(new RegExp(`.{${cols}}`, 'g'), '$&\n').replace(/\n$/, '');
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');

const VALUE = 'hunter2-Kspc?>~secret-token';
/** A 2 KiB PEM key. */
const KEY = `-----BEGIN PRIVATE KEY-----\n${wrap(randomBytes(1500).toString('base64'), 64)}\n-----END PRIVATE KEY-----\n`;

/** Does the text, all its whitespace gone, decoded from base64 (either alphabet) or hex at any alignment, hold 8 bytes of the value in a row? */
function shows(text: string, value: string): boolean {
  const v = Buffer.from(value).toString('latin1');
  const grams = new Set<string>();
  for (let i = 0; i + 8 <= v.length; i++) grams.add(v.slice(i, i + 8));
  const joined = text.replace(/[ \t\r\n]+/g, '');
  const decoded: string[] = [];
  for (const run of joined.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
    for (let s = 0; s < 4; s++) decoded.push(Buffer.from(run.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  }
  for (const run of joined.match(/[0-9a-fA-F]{16,}/g) ?? []) for (let s = 0; s < 2; s++) decoded.push(Buffer.from(run.slice(s), 'hex').toString('latin1'));
  return decoded.some((d) => {
    for (let i = 0; i + 8 <= d.length; i++) if (grams.has(d.slice(i, i + 8))) return true;
    return false;
  });
}

/** What each tool makes of an encoding (its lines as `base64`, `xxd -p` wrap them, or one line). */
const FORMS: Record<string, (enc: string, cols: number) => string> = {
  "sed 's/^/    /' (a YAML block)": (e, c) => wrap(e, c).replace(/^/gm, '    '),
  "tr '\\n' ' '": (e, c) => `${wrap(e, c).replace(/\n/g, ' ')} `,
  'fold -w 20': (e) => wrap(e, 20),
  "paste -sd' '": (e, c) => wrap(e, c).replace(/\n/g, ' '),
  'CRLF line ends': (e, c) => wrap(e, c).replace(/\n/g, '\r\n'),
  "tr '\\n' '\\t'": (e, c) => wrap(e, c).replace(/\n/g, '\t'),
  'several spaces and tabs': (e) => wrap(e, 9).replace(/\n/g, '  \t  '),
  'indent, trailing blanks, CRLF': (e, c) => wrap(e, c).replace(/^(.*)$/gm, '\t  $1  \r'),
  'fold -w 7 | paste -sd" "': (e) => wrap(e, 7).replace(/\n/g, ' '),
  "tr '\\n' '\\f' (form feed), vertical tabs": (e, c) => wrap(e, c).replace(/\n/g, '\f\v'),
};

test('base64 (standard, URL-safe) and hex of a value, broken by whitespace in any of these forms, are masked', () => {
  for (const [value, cols] of [[VALUE, 12], [KEY, 76]] as const) {
    for (const [name, form] of Object.entries(FORMS)) {
      for (const enc of [b64(`${value}\n`), url(value), b64(`TOKEN=${value}`), hex(value), hex(`k=${value}`).toUpperCase()]) {
        const text = `out: |\n${form(enc, cols)}\ndone\n`;
        const r = maskSecretValues({ o: text }, [value], false);
        assert.ok(!shows(r.streams.o, value), `${name} of ${enc.slice(0, 20)}: ${r.streams.o.slice(0, 300)}`);
        assert.ok(r.masked >= 1, name);
        assert.equal(r.streams.o.split('\n').length, text.split('\n').length, `${name}: the line count stays`);
        assert.match(r.streams.o, /^out: \|\n/, name);
        assert.match(r.streams.o, /\ndone\n$/, name);
      }
    }
  }
});

test('within what is masked, line breaks and each line\'s indentation stay; whitespace between encoded characters on a line is masked with them', () => {
  const enc = b64(VALUE);
  // A YAML block: every line of it one mask, its indentation kept.
  const yaml = `data:\n  key: |\n${wrap(enc, 12).replace(/^/gm, '    ')}\n  other: x\n`;
  assert.equal(maskSecretValues({ o: yaml }, [VALUE], false).streams.o, 'data:\n  key: |\n    ***\n    ***\n    ***\n  other: x\n');
  // One line: one mask, the spaces between its pieces in it; the line's own blanks around it kept.
  assert.equal(maskSecretValues({ o: `v ${wrap(enc, 5).replace(/\n/g, ' ')} \n` }, [VALUE], false).streams.o, 'v *** \n');
  assert.equal(maskSecretValues({ o: `\t${wrap(enc, 12).replace(/\n/g, '\t\t')}  \r\nend` }, [VALUE], false).streams.o, '\t***  \r\nend');
  // CRLF: each line one mask, its CR kept.
  assert.equal(maskSecretValues({ o: `${wrap(enc, 12).replace(/\n/g, '\r\n')}\r\n` }, [VALUE], false).streams.o, '***\r\n***\r\n***\r\n');
  // xxd -p | tr '\n' ' ', and a hex dump broken inside a byte.
  assert.equal(maskSecretValues({ o: `${wrap(hex(VALUE), 8).replace(/\n/g, ' ')}\n` }, [VALUE], false).streams.o, '***\n');
  assert.equal(maskSecretValues({ o: `${wrap(hex(VALUE), 7).replace(/\n/g, '   ')}\n` }, [VALUE], false).streams.o, '***\n');
});

test('only the characters carrying the value\'s bits are masked: unrelated base64 and words beside it, across the whitespace, stay', () => {
  // 30 and 33 bytes: their base64 has no padding, so the three join into one run.
  const before = b64('an unrelated payload, 30 bytes');
  const after = b64('another unrelated one of 33 bytes');
  const v = b64(VALUE);
  assert.equal(v.length % 4, 0);
  assert.equal(maskSecretValues({ o: `${before} ${v} ${after}\n` }, [VALUE], false).streams.o, `${before} *** ${after}\n`);
  assert.equal(maskSecretValues({ o: `${before}\n    ${wrap(v, 8).replace(/\n/g, '\t')}\n    ${after}\n` }, [VALUE], false).streams.o, `${before}\n    ***\n    ${after}\n`);
  assert.equal(maskSecretValues({ o: `token is ${wrap(v, 10).replace(/\n/g, '  ')} and more words here` }, [VALUE], false).streams.o, 'token is *** and more words here');
  // The value inside a longer encoded text, indented and folded: the neighbours' own characters kept.
  for (const head of ['', 'A', 'AB', 'TOKEN=', 'some text before it, ']) {
    for (const tail of ['', 'x', 'xy', ' and text after']) {
      const enc = b64(`${head}${VALUE}${tail}`);
      const text = `${wrap(enc, 10).replace(/^/gm, '  ')}\n`;
      const out = maskSecretValues({ o: text }, [VALUE], false).streams.o;
      assert.ok(!shows(out, VALUE), `${JSON.stringify(head)}+${JSON.stringify(tail)}: ${out}`);
      const kept = Math.floor((Buffer.byteLength(head) * 8) / 6);
      assert.equal(out.replace(/[ \n]/g, '').slice(0, kept), enc.slice(0, kept), `${JSON.stringify(head)}: ${out}`);
      const keptTail = Math.floor((Buffer.byteLength(tail) * 8) / 6);
      if (keptTail > 0) assert.ok(out.replace(/[ \n]/g, '').endsWith(enc.replace(/=+$/, '').slice(-keptTail) + enc.slice(enc.replace(/=+$/, '').length)), `${JSON.stringify(tail)}: ${out}`);
    }
  }
});

test('legit neighbours stay: ordinary text of short words, an ls -l listing, hex dumps with offsets of other data, other base64 spaced out', () => {
  const values = [VALUE, KEY, 'abcd1234', '31415926'];
  const other = randomBytes(300);
  const xxd = (b: Buffer) => (hex(b).match(/.{1,32}/g) ?? []).map((l, i) => `${(i * 16).toString(16).padStart(8, '0')}: ${l.replace(/(....)/g, '$1 ').trim()}  ${'.'.repeat(l.length / 2)}`).join('\n');
  const hexdumpC = (b: Buffer) => (hex(b).match(/.{1,32}/g) ?? []).map((l, i) => `${(i * 16).toString(16).padStart(8, '0')}  ${l.replace(/../g, '$& ').trim()}  |${'.'.repeat(l.length / 2)}|`).join('\n');
  const odAx = (b: Buffer) => (hex(b).match(/.{1,32}/g) ?? []).map((l, i) => `${(i * 16).toString(16).padStart(6, '0')} ${l.replace(/../g, '$& ').trim()}`).join('\n');
  const texts = [
    'The quick brown fox jumps over the lazy dog, and a bad cafe had 12 beds in 2024.\nIt was a dark and stormy night; the rain fell in torrents.\n',
    'total 12\ndrwxr-xr-x 2 root root 4096 Nov 30 17:17 app\n-rw-r--r-- 1 root root  220 Nov 30 17:17 .profile\n-rw------- 1 app  app  3771 Nov 30 17:17 .bashrc\n',
    'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          5d\nweb-2   1/1     Running   3          12h\n',
    `${xxd(other)}\n`,
    `${hexdumpC(other)}\n`,
    `${odAx(other)}\n`,
    `${wrap(b64(other), 20).replace(/^/gm, '    ')}\n`,
    `${wrap(b64(VALUE.slice(0, 20)), 6).replace(/\n/g, ' ')}\n`,
    `${wrap(hex(other), 8).replace(/\n/g, '\t')}\n`,
    'a1 b2 c3 d4 e5 f6 00 11 22 33 44 55 66 77 88 99\r\n\t10  20  30  40\r\n',
  ];
  for (const t of texts) {
    const r = maskSecretValues({ o: t }, values, false);
    assert.equal(r.streams.o, t, t.slice(0, 60));
    assert.equal(r.masked, 0);
  }
});

test('cut at the byte cap inside a spaced-out encoding, or a log window beginning inside an indented one: that end is masked', () => {
  const enc = b64(`TOKEN=${KEY}`);
  const spaced = wrap(enc, 76).replace(/\n/g, ' ');
  for (const n of [300, 301, 1000]) {
    const text = `out: ${spaced.slice(0, n)}`;
    const r = maskSecretValues({ o: text }, [KEY], true);
    assert.ok(!shows(r.streams.o, KEY), `${n}: ${r.streams.o}`);
    assert.equal(r.streams.o, `out: ${enc.slice(0, 8)}***`, 'TOKEN= is kept');
    assert.equal(maskSecretValues({ o: text }, [KEY], false).streams.o, text, 'not cut: kept');
  }
  const lines = wrap(b64(`${KEY}\n`), 76).split('\n').map((l) => `    ${l}\r`);
  for (const k of [1, 5, lines.length - 2]) {
    const text = `${lines.slice(k).join('\n')}\nready\n`;
    const r = maskSecretValues({ o: text }, [KEY], false, true);
    assert.ok(!shows(r.streams.o, KEY), `${k}: ${r.streams.o.slice(0, 300)}`);
    assert.match(r.streams.o, /^ {4}\*\*\*\r\n/);
    assert.match(r.streams.o, /\nready\n$/);
    assert.equal(maskSecretValues({ o: text }, [KEY], false).streams.o, text, 'not cut: kept');
  }
});

test('masking spaced-out encodings costs time linear in the output, also on text of short words and blanks', () => {
  const value = `${'a'.repeat(4096)}b`;
  const masker = secretValueMasker([value, KEY, VALUE]);
  const run = (text: string) => masker({ o: text }, true, true);
  assertLinear('words', repeatedTo('the quick brown fox 12 bed cafe '), run);
  assertLinear('base64 of a near match, spaced and indented', repeatedTo(`    ${wrap(b64('a'.repeat(600)), 7).replace(/\n/g, ' \t')}\r\n`), run);
  assertLinear('hex of a near match, spaced', repeatedTo(`${wrap(hex('a'.repeat(600)), 3).replace(/\n/g, '  ')}\n`), run);
  assertLinear('blanks only', repeatedTo(' \t\r\n  '), run);
  assertLinear('the key encoded, spaced', repeatedTo(`${wrap(b64(KEY), 20).replace(/\n/g, ' ')}\n`), run);
});
