/**
 * secret-env.ts masking of a value the program encoded (secret-encodings.ts): its standard and
 * URL-safe base64 (with or without padding, at each of the three alignments inside a longer
 * encoded text, wrapped at 76 columns) and its hex. `echo $DB_PASSWORD | base64` showed the
 * value to anyone who decodes it. Other text, and other base64, stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretValues } from '../../../tools/kubernetes/secret-env.js';

const VALUE = 'hunter2-Kenc?>~secret';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const url = (s: string) => Buffer.from(s).toString('base64url');
const hex = (s: string) => Buffer.from(s).toString('hex');

/** Does the text, decoded from base64 (either alphabet) anywhere, or as hex, still hold 4 bytes of the value in a row? */
function shows(text: string, value = VALUE): boolean {
  const grams = new Set<string>();
  for (let i = 0; i + 4 <= value.length; i++) grams.add(value.slice(i, i + 4));
  const decoded: string[] = [];
  for (const run of text.replace(/\r?\n/g, '').match(/[A-Za-z0-9+/_-]{4,}/g) ?? []) {
    for (let s = 0; s < 4; s++) decoded.push(Buffer.from(run.slice(s).replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')), 'base64').toString('latin1'));
  }
  for (const run of text.match(/[0-9a-fA-F]{8,}/g) ?? []) for (let s = 0; s < 2; s++) decoded.push(Buffer.from(run.slice(s), 'hex').toString('latin1'));
  return decoded.some((d) => [...grams].some((g) => d.includes(g)));
}

test('base64 of the value (echo | base64, printf | base64, URL-safe, with or without padding) is masked', () => {
  for (const enc of [b64(VALUE), b64(`${VALUE}\n`), url(VALUE), url(`${VALUE}\n`), b64(VALUE).replace(/=+$/, '')]) {
    const r = maskSecretValues({ o: `out: ${enc}\n` }, [VALUE], false);
    assert.ok(!shows(r.streams.o), `${enc}: ${r.streams.o}`);
    assert.ok(r.masked >= 1);
    assert.match(r.streams.o, /^out: \*\*\*/);
  }
});

test('base64 of the value inside a longer encoded text is masked at each alignment; the text around it stays', () => {
  for (const before of ['', 'A', 'AB', 'ABC', 'DB_PASSWORD=']) {
    for (const after of ['', '\n', 'x', 'xy', ' and more text']) {
      const plain = `${before}${VALUE}${after}`;
      for (const enc of [b64(plain), url(plain)]) {
        const r = maskSecretValues({ o: enc }, [VALUE], false);
        assert.ok(!shows(r.streams.o), `${JSON.stringify(before)}+${JSON.stringify(after)}: ${r.streams.o}`);
        assert.ok(r.streams.o.includes('***'));
      }
    }
  }
  // What encodes only the text around the value is still there.
  const long = b64(`${'padding text before '.repeat(3)}${VALUE}${' text after'.repeat(3)}`);
  const out = maskSecretValues({ o: long }, [VALUE], false).streams.o;
  assert.equal(out.slice(0, 40), long.slice(0, 40));
  assert.equal(out.slice(-20), long.slice(-20));
});

test('base64 wrapped at 76 columns (base64 without -w0) is masked line by line, keeping the line count', () => {
  const value = `${VALUE}-${'q'.repeat(90)}-end`;
  const enc = b64(`${value}\n`).replace(/.{76}/g, '$&\n');
  const r = maskSecretValues({ o: `${enc}\ndone\n` }, [value], false);
  assert.ok(!shows(r.streams.o, value), r.streams.o);
  assert.equal(r.streams.o.split('\n').length, `${enc}\ndone\n`.split('\n').length);
  assert.match(r.streams.o, /done\n$/);
});

test('hex of the value (xxd -p, od-free hexdump, upper case) is masked', () => {
  for (const enc of [hex(VALUE), hex(`${VALUE}\n`), hex(VALUE).toUpperCase(), hex(`x${VALUE}`).replace(/.{60}/g, '$&\n')]) {
    const r = maskSecretValues({ o: `h ${enc}\n` }, [VALUE], false);
    assert.ok(!shows(r.streams.o), `${enc}: ${r.streams.o}`);
    assert.match(r.streams.o, /\*\*\*/);
  }
});

test('other base64 and hex, and values shorter than 4 characters, stay', () => {
  const other = `${b64('an unrelated payload of some length')} ${hex('unrelated')}`;
  assert.equal(maskSecretValues({ o: other }, [VALUE, 'abc'], false).streams.o, other);
  assert.equal(maskSecretValues({ o: b64('abc') }, ['abc'], false).streams.o, b64('abc'));
});

// A pattern was as long as the value's encoding: a long value (a certificate in an environment
// variable) once built a pattern V8 could not compile (a SyntaxError from every exec and logs
// call into that pod) or one whose scan took minutes on output that nearly matched it. Now runs
// are decoded and searched (secret-encodings-long.test.ts: its encodings, and the time).
test('a long multi-line value is masked as it is line by line, and its encoding where the output holds one', () => {
  const pem = `-----BEGIN CERTIFICATE-----\n${'MIIB'.repeat(1100)}\n-----END CERTIFICATE-----`;
  const out = maskSecretValues({ stdout: `cert: ${pem}\n` }, [pem], false);
  assert.equal(out.streams.stdout, 'cert: ***\n***\n***\n', 'masked line by line, as a multi-line value is');
  // base64 of 10,200 'a's holds the value of 256 of them: masked whole.
  const near = Buffer.from('a'.repeat(255)).toString('base64').repeat(40);
  assert.equal(maskSecretValues({ o: near }, ['a'.repeat(256)], false).streams.o, '***');
});
