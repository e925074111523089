/**
 * secret-env.ts, red team: a Secret value printed in a form none of the masked ones covered:
 * written backwards (`rev`), as little-endian 16- or 32-bit words (`od -x`, `od -tx2`, the
 * default `hexdump`, `od -tx4`), as bits (`xxd -b`), or in base32 (`base32`). Each showed the
 * value to anyone who reverses the transform. Now the reversed value is a form of its own
 * (secret-env.ts), hex words of 4 or 8 digits are also read with their bytes reversed and groups
 * of 8 binary digits as bytes (word-runs.ts), and base32 is decoded as base64 is. The outputs are
 * made by the real programs, the value alone and inside a longer text (any byte alignment).
 * Legit neighbours: the same dumps of a file that is no secret, and words of hex or bits that are
 * not the value, stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { maskSecretValues } from '../../../tools/kubernetes/secret-env.js';

const VALUE = 'hunter2-Kspc?>~secret-token';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\nggSjAgEAAoIBAQC7Vx3mZ9pLq2kT\n-----END PRIVATE KEY-----\n';
const PUBLIC = 'id,name,price\n1,apple,0.50\n2,beef,12.99\n3,cafe au lait,3.20\n';

const sh = (script: string, input: string): string => execFileSync('sh', ['-c', script], { input, encoding: 'utf8' });

/** Does the text show 6 bytes of the value in a row in one of the new forms (whatever separates the pieces)? */
function shows(text: string, value: string): boolean {
  const b = Buffer.from(value);
  // Backwards, each line (as `rev` does).
  for (const line of value.split('\n')) {
    const r = [...line].reverse().join('');
    for (let i = 0; i + 6 <= r.length; i++) if (text.includes(r.slice(i, i + 6))) return true;
  }
  const digits = text.replace(/^\s*[0-7]{7,}\b/gm, '').replace(/^[0-9a-f]{8}:/gm, '').replace(/ {2,}\S.*$/gm, '');
  // Words of 2 or 4 bytes, last byte first, at each byte alignment: 6 bytes' words in a row.
  for (const size of [2, 4]) {
    for (let off = 0; off < size; off++) {
      const words: string[] = [];
      for (let i = off; i + size <= b.length; i += size) words.push(Buffer.from(b.subarray(i, i + size)).reverse().toString('hex'));
      const k = 6 / size > 1 ? Math.ceil(6 / size) : 2;
      for (let i = 0; i + k <= words.length; i++) if (new RegExp(words.slice(i, i + k).join('\\s+')).test(digits)) return true;
    }
  }
  // Bits, 6 bytes in a row.
  const bits = [...b].map((x) => x.toString(2).padStart(8, '0'));
  for (let i = 0; i + 6 <= bits.length; i++) if (new RegExp(bits.slice(i, i + 6).join('\\s+')).test(digits)) return true;
  // base32 at every alignment of the value in the text: 8 bytes decoded in a row.
  const b32 = text.replace(/[^A-Z2-7]/g, '');
  for (let s = 0; s < 8; s++) if (base32Decode(b32.slice(s)).includes(b.subarray(2, 10))) return true;
  return false;
}

function base32Decode(s: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let have = 0;
  for (const c of s) {
    acc = ((acc << 5) | 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c)) & 0xffff;
    have += 5;
    if (have >= 8) {
      have -= 8;
      out.push((acc >> have) & 0xff);
    }
  }
  return Buffer.from(out);
}

const ATTACKS = ['rev', 'od -x', 'od -tx2', 'od -An -x', 'hexdump', 'od -tx4', 'xxd -b', 'xxd -b -c 4', 'base32', 'base32 -w 10 | paste -sd,'];

test('a value written backwards, as little-endian words, as bits, or in base32: masked, alone and inside a longer text', () => {
  for (const value of [VALUE, KEY]) {
    for (const attack of ATTACKS) {
      for (const input of [value, `A=${value}\n`, `AB=${value}\n`, `ABC=${value}`]) {
        const out = sh(`printf 'before\\n'; ${attack}; printf 'after\\n'`, input);
        assert.ok(shows(out, value), `${attack}: the attack shows the value unmasked`);
        const r = maskSecretValues({ o: out }, [value], false);
        assert.ok(!shows(r.streams.o, value), `${attack} of ${JSON.stringify(input.slice(0, 12))}: ${r.streams.o.slice(0, 500)}`);
        assert.ok(r.masked >= 1, attack);
        assert.equal(r.streams.o.split('\n').length, out.split('\n').length, `${attack}: the line count stays`);
        assert.match(r.streams.o, /^before\n/, attack);
        assert.match(r.streams.o, /after\n$/, attack);
      }
    }
  }
});

test('legit neighbours stay: the same forms of a file that is no secret, bit and word lists of other data', () => {
  for (const attack of ATTACKS) {
    const out = sh(attack, PUBLIC);
    const r = maskSecretValues({ o: out }, [VALUE, KEY], false);
    assert.equal(r.streams.o, out, attack);
    assert.equal(r.masked, 0, attack);
  }
  const plain = 'build 0101 1100 ok\nmask 0xffff 7f00 1f2e\nREADME CHANGELOG LICENSE\n';
  assert.equal(maskSecretValues({ o: plain }, [VALUE, KEY], false).streams.o, plain);
});
