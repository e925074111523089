/**
 * secret-env.ts, red team: a Secret value printed as little-endian 8-byte words (`od -tx8`,
 * `od -An -tx8`) or in lower-case base32 (`base32 | tr A-Z a-z`) showed it: only words of 2 and
 * 4 bytes were read reversed, and base32 in upper case only. Now a group of 16 hex digits is a
 * word too (word-runs.ts), and the base32 scan reads runs of either case (alphabet-runs.ts). The
 * outputs are made by the real programs, the value alone and inside a longer text (every byte
 * alignment). Legit neighbours: the same dumps of a file that is no secret, 16-digit hex ids and
 * lower-case prose that are not the value, stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { maskSecretValues } from '../../../tools/kubernetes/secret-env.js';

const VALUE = 'hunter2-Kspc?>~secret-token';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\nggSjAgEAAoIBAQC7Vx3mZ9pLq2kT\n-----END PRIVATE KEY-----\n';
const PUBLIC = 'id,name,price\n1,apple,0.50\n2,beef,12.99\n3,cafe au lait,3.20\n';

const sh = (script: string, input: string): string => execFileSync('sh', ['-c', script], { input, encoding: 'utf8' });

/** Does the text show 8 bytes of the value in a row as reversed 8-byte words (whatever separates them)? */
function shows(text: string, value: string): boolean {
  const b = Buffer.from(value);
  const digits = text.replace(/^[0-7]{7,}\b/gm, '');
  for (let off = 0; off < 8; off++) {
    const words: string[] = [];
    for (let i = off; i + 8 <= b.length; i += 8) words.push(Buffer.from(b.subarray(i, i + 8)).reverse().toString('hex'));
    for (const w of words) if (digits.includes(w)) return true;
  }
  return false;
}

const ATTACKS = ['od -tx8', 'od -An -tx8', 'od -An -tx8 -v | tr -s " \\n" " "'];

test('a value as little-endian 8-byte words (od -tx8): masked, alone and inside a longer text', () => {
  for (const value of [VALUE, KEY]) {
    for (const attack of ATTACKS) {
      for (const pre of ['', 'A=', 'AB=', 'ABC=', 'ABCD=', 'ABCDEFG=']) {
        const out = sh(`printf 'before\\n'; ${attack}; printf 'after\\n'`, `${pre}${value}\n`);
        assert.ok(shows(out, value), `${attack}: the attack shows the value unmasked`);
        const r = maskSecretValues({ o: out }, [value], false);
        assert.ok(!shows(r.streams.o, value), `${attack} of ${JSON.stringify(pre)}: ${r.streams.o.slice(0, 500)}`);
        assert.ok(r.masked >= 1, attack);
        assert.equal(r.streams.o.split('\n').length, out.split('\n').length, `${attack}: the line count stays`);
        assert.match(r.streams.o, /^before\n/, attack);
        assert.match(r.streams.o, /after\n$/, attack);
      }
    }
  }
});

test('legit neighbours of 8-byte words stay: a file that is no secret, other 16-digit hex ids', () => {
  for (const attack of ATTACKS) {
    const out = sh(attack, PUBLIC);
    const r = maskSecretValues({ o: out }, [VALUE, KEY], false);
    assert.equal(r.streams.o, out, attack);
    assert.equal(r.masked, 0, attack);
  }
  const plain = 'trace 4bf92f3577b34da6 span 00f067aa0ba902b7 ok\n';
  assert.equal(maskSecretValues({ o: plain }, [VALUE, KEY], false).streams.o, plain);
});

/** Does the text show 8 bytes of the value in a row in lower-case base32 (any alignment, any separators)? */
function showsLower32(text: string, value: string): boolean {
  const b = Buffer.from(value);
  const chars = text.replace(/[^a-z2-7]/g, '');
  for (let s = 0; s < 8; s++) {
    const out: number[] = [];
    let acc = 0;
    let have = 0;
    for (const c of chars.slice(s)) {
      acc = ((acc << 5) | 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(c)) & 0xffff;
      have += 5;
      if (have >= 8) {
        have -= 8;
        out.push((acc >> have) & 0xff);
      }
    }
    if (Buffer.from(out).includes(b.subarray(2, 10))) return true;
  }
  return false;
}

const LOWER = ['base32 | tr A-Z a-z', 'base32 -w 0 | tr A-Z a-z', 'base32 -w 20 | tr A-Z a-z | paste -sd,'];

test('a value in lower-case base32: masked, alone and inside a longer text', () => {
  for (const value of [VALUE, KEY, 'pw-2short']) {
    for (const attack of LOWER) {
      for (const pre of ['', 'A=', 'AB=', 'ABC=', 'ABCD=']) {
        const once = attack.replace('base32', 'base32 -w 0');
        const out = sh(`v=$(cat); printf 'before\\n'; printf %s "$v" | ${attack}; printf 'token: '; printf %s "$v" | ${once}; printf '\\nafter\\n'`, `${pre}${value}`);
        const r = maskSecretValues({ o: out }, [value], false);
        if (value.length >= 10) {
          assert.ok(showsLower32(out, value), `${attack}: the attack shows the value unmasked`);
          assert.ok(!showsLower32(r.streams.o, value), `${attack} of ${JSON.stringify(pre)}: ${r.streams.o.slice(0, 500)}`);
        }
        const enc = sh(once, `${pre}${value}`).trim();
        assert.ok(!r.streams.o.includes(enc), `${attack} of ${JSON.stringify(pre)}: ${enc} left in ${r.streams.o}`);
        assert.ok(r.masked >= 2, `${attack}: ${r.streams.o}`);
        assert.equal(r.streams.o.split('\n').length, out.split('\n').length, `${attack}: the line count stays`);
        assert.match(r.streams.o, /^before\n/, attack);
        assert.match(r.streams.o, /after\n$/, attack);
      }
    }
  }
});

test('legit neighbours of lower-case base32 stay: a file that is no secret, prose, upper-case base32 next to lower-case text', () => {
  for (const attack of LOWER) {
    const out = sh(attack, PUBLIC);
    const r = maskSecretValues({ o: out }, [VALUE, KEY], false);
    assert.equal(r.streams.o, out, attack);
  }
  const prose = 'the quick brown fox jumps over the lazy dog; configuration reloaded successfully at startup\n';
  assert.equal(maskSecretValues({ o: prose }, [VALUE, KEY], false).streams.o, prose);
  // Upper-case base32 right after lower-case text, its first character a digit (a value whose first byte is 0xd0 or more).
  const cyr = 'пароль-секрет-2026';
  const up = sh('base32 -w 0', cyr);
  assert.match(up, /^[2-7]/);
  const out = `key:${up}\n`;
  assert.equal(maskSecretValues({ o: out }, [cyr], false).streams.o, 'key:***\n');
});
