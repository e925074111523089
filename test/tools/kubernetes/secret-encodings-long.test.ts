/**
 * secret-encodings.ts on values of any length: a certificate or private key in an environment
 * variable (`echo "$TLS_KEY" | base64`, `printenv CERT | xxd -p`) was masked only as it is, its
 * encodings not at all (patterns stopped at 256 bytes: longer ones V8 could not compile or took
 * minutes to scan). Now runs of base64 and hex are decoded and searched for the values, in time
 * linear in the output. Also: an encoding cut at the end of the output (the byte cap) whose
 * decoded tail begins a value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretValues, MIN_VALUE, secretValueMasker } from '../../../tools/kubernetes/secret-env.js';
import { encodedMasker } from '../../../tools/kubernetes/secret-encodings.js';
import { mulberry32 } from '../../support/prng.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const rand = mulberry32(0x6b656e63);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const wrap = (s: string, cols: number) => s.replace(new RegExp(`.{${cols}}`, 'g'), '$&\n').replace(/\n$/, '');
const pem = (label: string, body: Buffer) => `-----BEGIN ${label}-----\n${wrap(body.toString('base64'), 64)}\n-----END ${label}-----\n`;

/** A 4 KiB PEM private key, and another one with the same armour (a legit neighbour). */
const KEY = pem('PRIVATE KEY', randomBytes(2990));
const OTHER_KEY = pem('PRIVATE KEY', randomBytes(2990));
/** 64 KiB of printable text, no line breaks. */
const BIG = randomBytes(49152).toString('base64').slice(0, 65536);

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');
/** `od -An -tx1`: 16 bytes a line, each after a space. */
const od = (s: string) => (hex(s).match(/.{1,32}/g) ?? []).map((l) => ` ${l.replace(/../g, '$& ').trim()}`).join('\n');

/** Does any base64 or hex run of the text, decoded at any alignment, hold 12 bytes of the value in a row? */
function shows(text: string, value: string): boolean {
  const v = Buffer.from(value).toString('latin1');
  const grams = new Set<string>();
  for (let i = 0; i + 12 <= v.length; i += 1) grams.add(v.slice(i, i + 12));
  const decoded: string[] = [];
  const joined = text.replace(/\r?\n/g, '');
  for (const run of joined.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    for (let s = 0; s < 4; s++) decoded.push(Buffer.from(run.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  }
  for (const run of text.replace(/\r?\n ?| {1,2}/g, '').match(/[0-9a-fA-F]{24,}/g) ?? []) for (let s = 0; s < 2; s++) decoded.push(Buffer.from(run.slice(s), 'hex').toString('latin1'));
  return decoded.some((d) => {
    for (let i = 0; i + 12 <= d.length; i += 1) if (grams.has(d.slice(i, i + 12))) return true;
    return false;
  });
}

test('a 4 KiB PEM key: its base64 (one line, 64 and 76 columns, URL-safe) and hex (xxd -p, od -An -tx1) are masked, the line count kept', () => {
  const forms = [b64(KEY), wrap(b64(KEY), 76), wrap(b64(KEY), 64), url(KEY), wrap(hex(KEY), 60), od(KEY), hex(KEY).toUpperCase()];
  for (const enc of forms) {
    const text = `key:\n${enc}\ndone\n`;
    const r = maskSecretValues({ o: text }, [KEY], false);
    assert.ok(!shows(r.streams.o, KEY), `${enc.slice(0, 40)}: ${r.streams.o.slice(0, 200)}`);
    assert.ok(r.masked >= 1);
    assert.equal(r.streams.o.split('\n').length, text.split('\n').length);
    assert.match(r.streams.o, /^key:\n ?\*\*\*/);
    assert.match(r.streams.o, /\ndone\n$/);
  }
});

test('a 64 KiB value: its base64 (76 columns) and hex are masked', () => {
  for (const enc of [wrap(b64(`${BIG}\n`), 76), wrap(hex(BIG), 60), url(BIG)]) {
    const r = maskSecretValues({ o: `${enc}\n` }, [BIG], false);
    assert.ok(!shows(r.streams.o, BIG), r.streams.o.slice(0, 200));
    assert.equal(r.masked, 1);
    assert.equal(r.streams.o.split('\n').length, enc.split('\n').length + 1);
  }
});

test('a long value inside a longer encoded text, wrapped at 64 and 76 columns, at each alignment: only the characters holding its bits are masked', () => {
  for (const before of ['', 'A', 'AB', 'TLS_KEY=', 'some text before it, ']) {
    for (const after of ['', '\n', 'x', 'xy', ' and text after']) {
      const plain = `${before}${KEY}${after}`;
      for (const cols of [64, 76]) {
        const enc = wrap(b64(plain), cols);
        const r = maskSecretValues({ o: `${enc}\n` }, [KEY], false);
        const out = r.streams.o;
        assert.ok(!shows(out, KEY), `${JSON.stringify(before)}+${JSON.stringify(after)}/${cols}`);
        assert.equal(out.split('\n').length, enc.split('\n').length + 1);
        // The characters that hold only the neighbours' bits are kept.
        const head = Math.floor((Buffer.byteLength(before) * 8) / 6);
        const flat = enc.replace(/\n/g, '');
        const tail = Math.floor((Buffer.byteLength(after) * 8) / 6);
        assert.equal(out.replace(/\n/g, '').slice(0, head), flat.slice(0, head));
        if (tail > 0) assert.ok(out.replace(/\n/g, '').endsWith(flat.slice(flat.replace(/=+$/, '').length - tail)), out.slice(-40));
      }
    }
  }
});

test('legit neighbours stay: base64 and hex of other data (another key with the same armour, the value with one byte changed, a part of it)', () => {
  const changed = `${KEY.slice(0, 2000)}${KEY[2000] === 'A' ? 'B' : 'A'}${KEY.slice(2001)}`;
  const texts = [wrap(b64(OTHER_KEY), 76), wrap(b64(changed), 64), hex(changed), b64(KEY.slice(0, 3000)), wrap(b64(BIG.slice(100)), 76), `${b64('an unrelated payload of some length')} ${hex('unrelated')}`];
  for (const t of texts) {
    const text = `${t}\n`;
    const r = maskSecretValues({ o: text }, [KEY, BIG], false);
    assert.equal(r.streams.o, text, t.slice(0, 40));
    assert.equal(r.masked, 0);
  }
});

test('an encoding cut at the end of the output (the byte cap) whose decoded tail begins a value is masked there only; a tail shorter than 4 bytes of it stays', () => {
  for (const enc of [wrap(b64(`${KEY}`), 76), wrap(hex(KEY), 60), od(KEY), b64(`TLS_KEY=${KEY}`)]) {
    for (const n of [40, 41, 42, 43, 77, 78, 3000, 3001]) {
      const text = `out:\n${enc.slice(0, n)}`;
      const cut = maskSecretValues({ o: text }, [KEY], true);
      assert.ok(!shows(cut.streams.o, KEY), `${n}: ${cut.streams.o}`);
      assert.ok(!cut.streams.o.slice(5).replace(/\*\*\*|\n/g, '').includes(enc.slice(12, 24)), `${n}: ${cut.streams.o}`);
      assert.match(cut.streams.o, /\*\*\*[\n ]*$/);
      assert.equal(cut.streams.o.split('\n').length, text.split('\n').length);
      assert.equal(maskSecretValues({ o: text }, [KEY], false).streams.o, text, 'not cut: kept');
    }
  }
  // Two bytes of the value at the end: too short to tell from other data.
  const short = `x ${b64('hun')}`;
  assert.equal(maskSecretValues({ o: short }, ['hunter2-Kenc-secret'], true).streams.o, short);
  assert.equal(maskSecretValues({ o: `x ${b64('hunter2').slice(0, 6)}` }, ['hunter2-Kenc-secret'], true).streams.o, 'x ***');
});

test('a text that begins inside an encoded value (a log window after its first lines) has that end of it masked, only where its start was cut', () => {
  for (const enc of [wrap(b64(`${KEY}\n`), 76), wrap(b64(`k=${KEY}`), 64), wrap(hex(KEY), 60), od(KEY)]) {
    const lines = enc.split('\n');
    for (const k of [1, 2, 7, lines.length - 3, lines.length - 2]) {
      const text = `${lines.slice(k).join('\n')}\nready\n`;
      const r = maskSecretValues({ o: text }, [KEY], false, true);
      assert.ok(!shows(r.streams.o, KEY), `${k}: ${r.streams.o.slice(0, 300)}`);
      assert.match(r.streams.o, /^ ?\*\*\*/);
      assert.match(r.streams.o, /\nready\n$/);
      assert.equal(r.streams.o.split('\n').length, text.split('\n').length);
      assert.equal(maskSecretValues({ o: text }, [KEY], false).streams.o, text, 'not cut: kept');
    }
  }
  // Other data at a cut start stays; so do the last 1 to 3 bytes of a value.
  const other = `${wrap(b64(OTHER_KEY), 76).split('\n').slice(3).join('\n')}\n`;
  assert.equal(maskSecretValues({ o: other }, [KEY], false, true).streams.o, other);
  const tail3 = `${b64('xyz-secret').slice(-4)} rest`;
  assert.equal(maskSecretValues({ o: tail3 }, ['hunter2-xyz-secret'], false, true).streams.o, tail3);
});

test('no value to look for (none, or all shorter than 4 characters): no masker, no pass over the output', () => {
  assert.equal(encodedMasker([], MIN_VALUE), null);
  assert.equal(encodedMasker(['abc', ' ab'], MIN_VALUE), null);
  const text = b64('abc');
  const r = maskSecretValues({ o: text }, [], true);
  assert.equal(r.streams.o, text);
  assert.equal(r.masked, 0);
});

test('masking the encodings costs time linear in the output, also on text built to nearly match a long value', () => {
  const value = `${'a'.repeat(4096)}b`;
  const masker = secretValueMasker([value, KEY, 'hunter2-Kenc?>~secret']);
  const run = (text: string) => masker({ o: text }, true, true);
  assertLinear('base64 of a near match', repeatedTo(`${b64('a'.repeat(3000))}\n`), run);
  assertLinear('hex of a near match', repeatedTo(`${hex('a'.repeat(3000))} `), run);
  assertLinear('od-like hex', repeatedTo(' 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61\n'), run);
  assertLinear('short runs', repeatedTo('YWFh\nYWFh YW\r\nFhYW 6161 61 \n'), run);
  assertLinear('the key encoded, many times', repeatedTo(`${wrap(b64(KEY), 76)}\n`), run);
});
