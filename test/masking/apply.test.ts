import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, compileScanner, mergeHits, scanStreams, scanTable, scanValue } from '../../src/masking/index.js';

const scanner = compileScanner({ detectors: [...DETECTOR_NAMES] });

describe('scanTable', () => {
  it('masks string cells across mixed types and aggregates hits', () => {
    const when = new Date('2024-03-11T00:00:00Z');
    const bytes = Buffer.from('alice@example.com');
    const rows: unknown[][] = [
      [1, 'alice@example.com', null, true, when, bytes],
      [2, 'plain text', undefined, false, 3.5, 'ssn 123-45-6789'],
      [3, { email: 'bob@example.com', n: 7, tags: ['x', 'carol@example.com'] }, ['123-45-6789', 5], 10n, 'ok', ''],
    ];
    const res = scanTable(rows, scanner);
    // Bytes are read as text: the address inside comes back masked, in bytea's hex text form.
    assert.deepEqual(res.rows[0], [1, '[email]', null, true, when, `\\x${Buffer.from('[email]').toString('hex')}`]);
    assert.deepEqual(res.rows[1], [2, 'plain text', undefined, false, 3.5, 'ssn [us_ssn]']);
    assert.deepEqual(res.rows[2], [3, { email: '[email]', n: 7, tags: ['x', '[email]'] }, ['[us_ssn]', 5], 10n, 'ok', '']);
    assert.deepEqual(res.hits, { email: 4, us_ssn: 2 });
    // Dates, and bytes without a finding, are passed through as-is.
    assert.equal(res.rows[0]?.[4], when);
    const quiet = Buffer.from('nothing here');
    assert.equal(scanTable([[quiet]], scanner).rows[0]?.[0], quiet);
  });

  it('does not mutate its input and shares untouched rows', () => {
    const rows: unknown[][] = [['alice@example.com'], ['nothing here']];
    const res = scanTable(rows, scanner);
    assert.deepEqual(rows, [['alice@example.com'], ['nothing here']]);
    assert.equal(res.rows[1], rows[1]);
    assert.notEqual(res.rows[0], rows[0]);
  });

  it('masks card numbers stored as numbers and bigints', () => {
    const res = scanTable([[4111111111111111, 4111111111111111n, 1710152553000, 123456789]], scanner);
    assert.deepEqual(res.rows[0], ['[credit_card]', '[credit_card]', 1710152553000, 123456789]);
    assert.deepEqual(res.hits, { credit_card: 2 });
  });

  it('masks object keys too', () => {
    const res = scanTable([[{ 'alice@example.com': 3 }]], scanner);
    assert.deepEqual(res.rows[0], [{ '[email]': 3 }]);
  });

  it('redacts nesting deeper than the limit instead of skipping it', () => {
    let deep: unknown = 'alice@example.com';
    for (let i = 0; i < 100; i++) deep = [deep];
    const res = scanTable([[deep]], scanner);
    assert.ok(!JSON.stringify(res.rows).includes('alice'));
  });

  it('masks rows that are objects instead of arrays, and class instances', () => {
    class Custom {
      note = 'mail alice@example.com';
    }
    const rows = [{ email: 'bob@example.com' }, [new Custom()]] as unknown as unknown[][];
    const res = scanTable(rows, scanner);
    assert.deepEqual(res.rows[0], { email: '[email]' });
    assert.deepEqual(res.rows[1], [{ note: 'mail [email]' }]);
    assert.deepEqual(res.hits, { email: 2 });
  });

  it('handles an empty table', () => {
    assert.deepEqual(scanTable([], scanner), { rows: [], hits: {} });
  });
});

describe('scanStreams and scanValue', () => {
  it('masks each stream and sums hits', () => {
    const res = scanStreams(
      {
        stdout: 'DATABASE_URL=postgres://app:s3cr3t@db:5432/app\nUSER=alice@example.com\n',
        stderr: 'warning: key AKIAIOSFODNN7EXAMPLE is old',
      },
      scanner,
    );
    assert.equal(res.streams.stdout, 'DATABASE_URL=postgres://app:[password]@db:5432/app\nUSER=[email]\n');
    assert.equal(res.streams.stderr, 'warning: key [aws_access_key] is old');
    assert.deepEqual(res.hits, { password_in_url: 1, email: 1, aws_access_key: 1 });
  });

  it('masks a multi-line private key inside command output', () => {
    const out = 'cat id_rsa\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n$ ';
    const res = scanStreams({ stdout: out }, scanner);
    assert.equal(res.streams.stdout, 'cat id_rsa\n[private_key]\n$ ');
  });

  it('walks JSON values (e.g. Kubernetes objects)', () => {
    const secret = {
      kind: 'Secret',
      metadata: { name: 'db', annotations: { owner: 'alice@example.com' } },
      stringData: { url: 'postgres://app:pw@db/app' },
    };
    const res = scanValue(secret, scanner);
    assert.deepEqual(res.value, {
      kind: 'Secret',
      metadata: { name: 'db', annotations: { owner: '[email]' } },
      stringData: { url: 'postgres://app:[password]@db/app' },
    });
    assert.equal(secret.metadata.annotations.owner, 'alice@example.com');
    const untouched = { a: ['b', 1] };
    assert.equal(scanValue(untouched, scanner).value, untouched);
  });

  it('merges hit maps', () => {
    assert.deepEqual(mergeHits({ email: 1 }, { email: 2, jwt: 1 }), { email: 3, jwt: 1 });
  });
});
