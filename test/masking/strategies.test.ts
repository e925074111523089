import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, STRATEGY_NAMES, createMasker, partialMask } from '../../src/masking/index.js';
import { emailAt } from '../../src/masking/strategies.js';
import { WardenError } from '../../src/errors.js';

const masker = createMasker({ hashKey: 'test-key-one' });

describe('masking strategies', () => {
  it('lists its strategies', () => {
    assert.deepEqual([...masker.strategies].sort(), ['hash', 'null', 'partial', 'redact']);
    assert.deepEqual([...STRATEGY_NAMES].sort(), ['hash', 'null', 'partial', 'redact']);
  });

  it('redact replaces any value', () => {
    assert.equal(masker.apply('alice@example.com', 'redact'), REDACTED);
    assert.equal(masker.apply(42, 'redact'), '[REDACTED]');
    assert.equal(masker.apply({ a: 1 }, 'redact'), '[REDACTED]');
  });

  it('null turns values into null', () => {
    assert.equal(masker.apply('secret', 'null'), null);
    assert.equal(masker.apply(0, 'null'), null);
  });

  it('keeps null as null for every strategy', () => {
    for (const s of STRATEGY_NAMES) {
      assert.equal(masker.apply(null, s), null, s);
      assert.equal(masker.apply(undefined, s), null, s);
    }
  });

  it('partial keeps a hint of emails', () => {
    assert.equal(masker.apply('alice@example.com', 'partial'), 'a***@example.com');
    assert.equal(masker.apply('a@example.com', 'partial'), '***@example.com');
  });

  it('partial masks emails exactly as the capturing-regex definition does, astral and odd inputs included', () => {
    // The definition the fast path replaced: /^([^@\s]+)@([^@\s]+)$/ with the local part's
    // first code point kept when it has more than one.
    const reference = (s: string): string | null => {
      const m = /^([^@\s]+)@([^@\s]+)$/.exec(s);
      if (!m) return null;
      const local = Array.from(m[1]!);
      return `${local.length > 1 ? local[0] : ''}***@${m[2]}`;
    };
    const cases = [
      'alice@example.com', 'a@b', 'ab@b', '@example.com', 'alice@', 'a@b@c', 'al ice@example.com', 'alice@exa\u00a0mple.com',
      'alice@example.com\n', 'x\u2028y@z', '\u{1F600}@example.com', '\u{1F600}x@example.com', '\u{1F600}\u{1F601}@e',
      '\ud800@e', '\ud800x@e', 'x\udc00@e', '\udc00\ud800@e', 'é@e', 'éé@e', '\ufeffa@e', 'a\t@e', '@', '@@', 'a@@b',
    ];
    for (const c of cases) {
      const want = reference(c);
      if (want === null) assert.equal(emailAt(c), -1, JSON.stringify(c));
      else assert.equal(partialMask(c), want, JSON.stringify(c));
    }
  });

  it('partial keeps the last four of SSNs and cards', () => {
    assert.equal(masker.apply('123-45-6789', 'partial'), '***-**-6789');
    assert.equal(masker.apply('4111111111111111', 'partial'), '************1111');
    assert.equal(masker.apply('4111 1111 1111 1111', 'partial'), '**** **** **** 1111');
    assert.equal(masker.apply('4111-1111-1111-1111', 'partial'), '****-****-****-1111');
  });

  it('partial keeps first and last character of other strings', () => {
    assert.equal(masker.apply('Johnathan', 'partial'), 'J***n');
    assert.equal(masker.apply('hunter2!', 'partial'), 'h***!');
    assert.equal(partialMask('Zoë Ødegård'), 'Z***d');
  });

  it('partial fully stars short strings', () => {
    assert.equal(masker.apply('bob', 'partial'), '***');
    assert.equal(masker.apply('abcd', 'partial'), '****');
    assert.equal(masker.apply('x', 'partial'), '*');
    assert.equal(masker.apply('', 'partial'), '');
  });

  it('stringifies non-string values first', () => {
    assert.equal(masker.apply(123456789, 'partial'), '1***9');
    assert.equal(masker.apply(false, 'partial'), 'f***e');
    assert.equal(masker.apply(12n, 'partial'), '**');
    assert.equal(masker.apply(new Date('2024-03-11T00:00:00Z'), 'partial'), '2***Z');
  });

  it('hash is stable, short and prefixed', () => {
    const a = masker.apply('alice@example.com', 'hash');
    const b = masker.apply('alice@example.com', 'hash');
    assert.equal(a, b);
    assert.match(String(a), /^hash:[0-9a-f]{16}$/);
    assert.notEqual(masker.apply('bob@example.com', 'hash'), a);
  });

  it('hash is the same across maskers with the same key (joins still work)', () => {
    const other = createMasker({ hashKey: Buffer.from('test-key-one') });
    assert.equal(other.apply('alice@example.com', 'hash'), masker.apply('alice@example.com', 'hash'));
    // Numbers and their string form hash alike, so an int column joins a text column.
    assert.equal(masker.apply(42, 'hash'), masker.apply('42', 'hash'));
  });

  it('hash depends on the key', () => {
    const other = createMasker({ hashKey: 'test-key-two' });
    assert.notEqual(other.apply('alice@example.com', 'hash'), masker.apply('alice@example.com', 'hash'));
  });

  it('hash is not a bare SHA-256 of the value', async () => {
    const { createHash } = await import('node:crypto');
    const bare = createHash('sha256').update('alice@example.com').digest('hex').slice(0, 16);
    assert.notEqual(masker.apply('alice@example.com', 'hash'), `hash:${bare}`);
  });

  it('throws on an unknown strategy', () => {
    assert.throws(() => masker.apply('x', 'scramble'), (err: unknown) => {
      assert.ok(err instanceof WardenError);
      assert.equal(err.code, 'WARDEN_CONFIG');
      assert.match(err.message, /unknown strategy "scramble"/);
      return true;
    });
    assert.throws(() => masker.apply('x', 'toString'), WardenError);
    assert.throws(() => masker.apply(null, 'scramble'), WardenError);
  });

  it('refuses an empty hash key', () => {
    assert.throws(() => createMasker({ hashKey: '' }), WardenError);
    assert.throws(() => createMasker({ hashKey: Buffer.alloc(0) }), WardenError);
  });
});
