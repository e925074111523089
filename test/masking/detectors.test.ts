import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileScanner } from '../../src/masking/index.js';
import { all, masks, untouched } from './scan-asserts.js';

const only = (name: string) => compileScanner({ detectors: [name] });

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDx2ykVDn7U0ZmXk3c0nY7tqQ0aS0t1MzXkS1h0ZWFjAAAAAA==',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');

describe('detectors: positives and placeholders', () => {
  it('email', () => {
    masks('write to alice.smith+tag@example.co.uk today', 'write to [email] today', 'email');
    masks('a@b.io, c@d.org', '[email], [email]', 'email', 2);
  });

  it('credit_card (Luhn-valid, several layouts)', () => {
    masks('card 4111111111111111 ok', 'card [credit_card] ok', 'credit_card');
    masks('card 4111 1111 1111 1111', 'card [credit_card]', 'credit_card');
    masks('card 5555-5555-5555-4444.', 'card [credit_card].', 'credit_card');
    masks('amex 3782 822463 10005', 'amex [credit_card]', 'credit_card');
    masks('amex 378282246310005', 'amex [credit_card]', 'credit_card');
    masks('ref 12 4111 1111 1111 1111', 'ref 12 [credit_card]', 'credit_card');
    masks('4111111111111111,5500005555555559', '[credit_card],[credit_card]', 'credit_card', 2);
  });

  it('us_ssn', () => {
    masks('SSN: 123-45-6789', 'SSN: [us_ssn]', 'us_ssn');
    masks('(536-22-1234)', '([us_ssn])', 'us_ssn');
  });

  it('jwt', () => {
    masks(`token=${JWT}&x=1`, 'token=[jwt]&x=1', 'jwt');
  });

  it('aws_access_key and labelled aws secret keys', () => {
    masks('AKIAIOSFODNN7EXAMPLE', '[aws_access_key]', 'aws_access_key');
    masks('id=ASIAY34FZKBOKMUTVV7A;', 'id=[aws_access_key];', 'aws_access_key');
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    masks(`aws_secret_access_key=${secret}`, 'aws_secret_access_key=[aws_secret_key]', 'aws_secret_key');
    masks(`AWS_SECRET_ACCESS_KEY = "${secret}"`, 'AWS_SECRET_ACCESS_KEY = "[aws_secret_key]"', 'aws_secret_key');
    masks(`{"SecretAccessKey": "${secret}"}`, '{"SecretAccessKey": "[aws_secret_key]"}', 'aws_secret_key');
  });

  it('private_key: whole multi-line block, BEGIN to END', () => {
    masks(`before\n${PEM}\nafter`, 'before\n[private_key]\nafter', 'private_key');
    const rsa = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
    masks(`${rsa}\n${rsa}`, '[private_key]\n[private_key]', 'private_key', 2);
  });

  it('private_key: a block cut off by truncation is masked to the end', () => {
    masks('key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'key:\n[private_key]', 'private_key');
  });

  it('private_key: base64-encoded PEM as in Kubernetes Secret data', () => {
    const b64 = Buffer.from(`${PEM}\n`).toString('base64');
    masks(`  id_ed25519: ${b64}\n`, '  id_ed25519: [private_key]\n', 'private_key');
  });

  it('password_in_url keeps everything but the password', () => {
    masks('postgres://app:s3cr3t@db.internal:5432/app', 'postgres://app:[password]@db.internal:5432/app', 'password_in_url');
    masks('redis://:hunter2@cache:6379/0', 'redis://:[password]@cache:6379/0', 'password_in_url');
    masks('amqp://u:p@ss:w0rd@mq/vhost', 'amqp://u:[password]@mq/vhost', 'password_in_url');
  });

  it('bearer_token and Authorization headers', () => {
    masks('Authorization: Bearer abcdef0123456789xyz', 'Authorization: Bearer [bearer_token]', 'bearer_token');
    masks(`authorization: Bearer ${JWT}`, 'authorization: Bearer [bearer_token]', 'bearer_token');
    masks('-H "Authorization: Basic dXNlcjpwYXNzd29yZA=="', '-H "Authorization: Basic [bearer_token]"', 'bearer_token');
    masks('curl -H "Bearer 0123456789abcdefghij"', 'curl -H "Bearer [bearer_token]"', 'bearer_token');
  });

  it('reports several kinds in one text', () => {
    const res = all.scan(`user alice@example.com ssn 123-45-6789 card 4111111111111111 ${JWT}`);
    assert.equal(res.text, 'user [email] ssn [us_ssn] card [credit_card] [jwt]');
    assert.deepEqual(res.hits, { email: 1, us_ssn: 1, credit_card: 1, jwt: 1 });
  });

  it('never puts matched values into hits', () => {
    const res = all.scan('alice@example.com 4111111111111111 postgres://a:pw@h/db');
    const json = JSON.stringify(res.hits);
    assert.ok(!json.includes('alice') && !json.includes('4111') && !json.includes('pw'));
  });

  it('is idempotent on its own output', () => {
    const once = all.scan(`postgres://a:pw@h/db alice@example.com ${JWT}`);
    const twice = all.scan(once.text);
    assert.equal(twice.text, once.text);
    assert.deepEqual(twice.hits, {});
  });

  it('runs only the detectors asked for', () => {
    const text = 'alice@example.com 123-45-6789';
    assert.equal(only('email').scan(text).text, '[email] 123-45-6789');
    assert.equal(only('us_ssn').scan(text).text, 'alice@example.com [us_ssn]');
  });
});

describe('detectors: innocent data stays readable', () => {
  const innocent = [
    'Order #48213 shipped on 2024-03-11',
    'order number 100200300400',
    'phone +1 (415) 555-0134',
    'call 415-555-0134 or 415 555 0134',
    'intl +44 20 7946 0958',
    'customer id 123456789',
    'ids 123456789, 987654321',
    '2024-03-11T10:22:33.123Z',
    'epoch 1710152553000 ms',
    'ts 20240311102233',
    '550e8400-e29b-41d4-a716-446655440000',
    '63475478-3211-4200-b9b1-60e5dcbdea82',
    'version 1.2.3, v10.11.12-rc.1, 4.19.0-26-amd64',
    'ip 10.0.0.5:5432 and 192.168.1.1',
    'Luhn-invalid 4111111111111112',
    'Luhn-invalid 4111 1111 1111 1112',
    'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'hex a1b2c3d4e5f60718293a4b5c6d7e8f90',
    'area 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000',
    'part 123-45-67890 or 1123-45-6789',
    'header eyJ alone and eyJ.x.y',
    'AKIA too short AKIA1234',
    'akiaiosfodnn7example lowercase is not a key',
    'https://example.com:8443/path?q=a@b',
    'ssh deploy@10.0.0.5',
    'use Bearer authentication for the API',
    'Authorization header is missing',
    'the secret ingredient is love',
    '----- section -----',
    'numbers 0000000000000000 and 1234567890123',
    'date range 2024-01-01 - 2024-12-31',
  ];
  for (const text of innocent) {
    it(JSON.stringify(text), () => untouched(text));
  }
});
