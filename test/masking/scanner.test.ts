import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, compileScanner, placeholder } from '../../src/masking/index.js';
import type { CustomDetector } from '../../src/masking/index.js';
import { WardenError } from '../../src/errors.js';

function configError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WardenError, String(err));
    assert.equal(err.code, 'WARDEN_CONFIG');
    assert.match(err.message, re);
    return true;
  });
}

describe('compileScanner', () => {
  it('knows the policy detector names', () => {
    for (const name of ['email', 'credit_card', 'us_ssn', 'jwt', 'aws_access_key', 'private_key', 'password_in_url', 'bearer_token']) {
      assert.ok(DETECTOR_NAMES.includes(name), name);
    }
  });

  it('rejects unknown detectors with a clear message', () => {
    configError(() => compileScanner({ detectors: ['email', 'phone_number'] }), /unknown detector "phone_number".*known: .*email/);
    configError(() => compileScanner({ detectors: ['__proto__'] }), /unknown detector/);
  });

  it('accepts an empty list and masks nothing', () => {
    const s = compileScanner({ detectors: [] });
    assert.deepEqual(s.scan('alice@example.com'), { text: 'alice@example.com', hits: {} });
  });

  it('reports its kinds', () => {
    const s = compileScanner({ detectors: ['aws_access_key', 'email'], custom: [{ name: 'ticket', pattern: 'TCK-\\d+' }] });
    assert.deepEqual([...s.kinds].sort(), ['aws_access_key', 'aws_secret_key', 'custom:ticket', 'email']);
  });

  it('returns the same string when nothing matched (no copies on the fast path)', () => {
    const s = compileScanner({ detectors: [...DETECTOR_NAMES] });
    const text = `Order #${'48213'} shipped`;
    const hits = {};
    assert.equal(s.maskInto(text, hits), text);
    assert.deepEqual(hits, {});
  });

  it('stays linear on adversarial input (no catastrophic backtracking)', () => {
    const s = compileScanner({ detectors: [...DETECTOR_NAMES] });
    const n = 200_000;
    const inputs = [
      'a'.repeat(n) + '@',
      'a@'.repeat(n / 2),
      'a@' + '1.'.repeat(n / 2),
      '4'.repeat(n),
      '4111 '.repeat(n / 5),
      '123-45-'.repeat(n / 7),
      '-----BEGIN PRIVATE KEY-----\n'.repeat(n / 28),
      'a://b:' + 'c'.repeat(n),
      'Authorization: '.repeat(n / 15),
      'eyJaaaaa.'.repeat(n / 9),
      '-'.repeat(n),
    ];
    for (const text of inputs) {
      const t0 = performance.now();
      s.scan(text);
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `${JSON.stringify(text.slice(0, 20))}... took ${ms.toFixed(0)} ms`);
    }
  });

  it('maskInto aggregates into the caller hits', () => {
    const s = compileScanner({ detectors: ['email'] });
    const hits: Record<string, number> = { email: 2 };
    assert.equal(s.maskInto('x@example.com', hits), '[email]');
    assert.deepEqual(hits, { email: 3 });
  });
});

describe('custom detectors', () => {
  const scanner = (custom: CustomDetector[]) => compileScanner({ detectors: ['email'], custom });

  it('masks with a typed placeholder and counts by custom kind', () => {
    const s = scanner([{ name: 'employee_id', pattern: 'EMP-\\d{6}' }]);
    const res = s.scan('EMP-123456 and EMP-654321 mail bob@example.com');
    assert.equal(res.text, '[custom:employee_id] and [custom:employee_id] mail [email]');
    assert.deepEqual(res.hits, { 'custom:employee_id': 2, email: 1 });
    assert.equal(placeholder('custom:employee_id'), '[custom:employee_id]');
  });

  it('supports flags', () => {
    const s = scanner([{ name: 'proj', pattern: 'project-x', flags: 'i' }]);
    assert.equal(s.scan('PROJECT-X launch').text, '[custom:proj] launch');
  });

  it('rejects a pattern that does not compile', () => {
    configError(() => scanner([{ name: 'bad', pattern: '(unclosed' }]), /custom detector "bad": pattern does not compile/);
  });

  it('rejects patterns that match the empty string', () => {
    for (const pattern of ['a*', 'x?', '(?:)', '^', '$', '\\b', '(?=a)', 'foo|', '[0-9]{0,3}']) {
      configError(() => scanner([{ name: 'empty', pattern }]), /must not match the empty string/);
    }
  });

  it('rejects bad names, empty patterns, bad flags and duplicates', () => {
    configError(() => scanner([{ name: '', pattern: 'x' }]), /name/);
    configError(() => scanner([{ name: 'has space', pattern: 'x' }]), /name/);
    configError(() => scanner([{ name: 'ok', pattern: '' }]), /non-empty/);
    configError(() => scanner([{ name: 'ok', pattern: 'x', flags: 'g' }]), /flags/);
    configError(() => scanner([{ name: 'ok', pattern: 'x', flags: 'y' }]), /flags/);
    configError(() => scanner([{ name: 'd', pattern: 'x' }, { name: 'd', pattern: 'y' }]), /defined twice/);
  });

  it('does not leak regex state between calls', () => {
    const s = scanner([{ name: 'n', pattern: 'N\\d' }]);
    for (let i = 0; i < 3; i++) assert.equal(s.scan('N1 N2').text, '[custom:n] [custom:n]');
  });
});
