/**
 * Cloud and SaaS credentials of src/masking/service-tokens.ts, and SSNs written with spaces: each
 * masked where a result cell or command output carries it (alone, in a connection string, a URL,
 * a JSON document, a `curl -u` line), its label or identifier kept where there is one, and near
 * misses left alone. Tokens are built at run time from filler so no token-shaped literal sits in
 * the repository for secret scanners to flag.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileScanner } from '../../src/masking/index.js';
import { all, masks, untouched } from './scan-asserts.js';

const b62 = (n: number): string => 'aB3xY9kQ2m'.repeat(Math.ceil(n / 10)).slice(0, n);
const b64u = (n: number): string => 'Zx-9_Qw7Er'.repeat(Math.ceil(n / 10)).slice(0, n);
const hex = (n: number): string => '0a1b2c3d4e5f6789'.repeat(Math.ceil(n / 16)).slice(0, n);
/** Base64 of `n` bytes, as Azure prints its keys. */
const b64 = (n: number): string => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255)).toString('base64');
const letters = (n: number): string => 'qWeRtYuIoPaSdFgHjKlZ'.repeat(Math.ceil(n / 20)).slice(0, n);

const ACCOUNT_KEY = b64(64); // 88 characters, ends in "=="
const SB_KEY = b64(32);

describe('service tokens', () => {
  it('Azure storage connection string: the AccountKey value, the rest readable', () => {
    masks(
      `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${ACCOUNT_KEY};EndpointSuffix=core.windows.net`,
      'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=[azure_storage_key];EndpointSuffix=core.windows.net',
      'azure_storage_key',
    );
  });

  it('an app setting whose label ends in AccountKey', () => {
    masks(`StorageAccountKey=${ACCOUNT_KEY}`, 'StorageAccountKey=[azure_storage_key]', 'azure_storage_key');
    untouched('AccountKey=tooShort==');
  });

  it('Service Bus / Event Hubs SharedAccessKey, not SharedAccessKeyName', () => {
    masks(
      `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${SB_KEY}`,
      'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[azure_storage_key]',
      'azure_storage_key',
    );
  });

  it('a SAS URL signature, percent-encoded as Azure prints it', () => {
    const url = `https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&se=2026-12-01T00%3A00%3A00Z&sig=${encodeURIComponent(SB_KEY)}`;
    const res = all.scan(url);
    assert.ok(!res.text.includes(SB_KEY.slice(0, 20)), res.text);
    assert.ok(!res.text.includes(encodeURIComponent(SB_KEY).slice(0, 20)), res.text);
    assert.match(res.text, /&sig=\[azure_storage_key\]$/);
    assert.equal(res.hits.azure_storage_key, 1);
  });

  it('SendGrid API key', () => {
    masks(`SENDGRID: SG.${b64u(22)}.${b64u(43)} end`, 'SENDGRID: [sendgrid_key] end', 'sendgrid_key');
    untouched(`SG.${b64u(22)}.${b64u(42)}`); // short second part
  });

  it('Twilio: SID:secret pairs keep the SID; an API key SID alone is masked; an account SID alone is not', () => {
    const ac = `AC${hex(32)}`;
    const sk = `SK${hex(32)}`;
    masks(`curl -u ${ac}:${hex(32)} https://api.twilio.com`, `curl -u ${ac}:[twilio_key] https://api.twilio.com`, 'twilio_key');
    masks(`${sk}:${b62(32)}`, `${sk}:[twilio_key]`, 'twilio_key');
    masks(`key ${sk}`, 'key [twilio_key]', 'twilio_key');
    untouched(`account ${ac}`);
  });

  it('Vault, Docker Hub, DigitalOcean, Hugging Face, Shopify, Databricks', () => {
    masks(`VAULT_TOKEN=hvs.${b64u(90)}`, 'VAULT_TOKEN=[vault_token]', 'vault_token');
    masks(`{"token": "dckr_pat_${b64u(27)}"}`, '{"token": "[docker_token]"}', 'docker_token');
    masks(`dop_v1_${hex(64)}`, '[digitalocean_token]', 'digitalocean_token');
    masks(`hf_${letters(34)}`, '[huggingface_token]', 'huggingface_token');
    masks(`shpat_${hex(32)}`, '[shopify_token]', 'shopify_token');
    masks(`dapi${hex(32)}-2`, '[databricks_token]', 'databricks_token');
    untouched(`hf_${letters(33)}1`); // a digit: not a Hugging Face body
    untouched(`xdop_v1_${hex(64)}`);
    untouched('hvs.short');
  });

  it('Slack app-level tokens and Stripe webhook signing secrets (under slack_token, stripe_key)', () => {
    masks(`SLACK_APP_TOKEN=xapp-1-A0${b62(9).toUpperCase()}-1234567890123-${hex(64)}`, 'SLACK_APP_TOKEN=[slack_token]', 'slack_token');
    masks(`secret: whsec_${b62(32)}`, 'secret: [stripe_key]', 'stripe_key');
    masks(`/v1/sk_live_${b62(24)}/x`, '/v1/[stripe_key]/x', 'stripe_key');
    untouched('xapp-x');
    untouched(`whsec_${b62(10)}`);
  });

  it('a policy may switch on one of them alone', () => {
    const only = compileScanner({ detectors: ['sendgrid_key'] });
    const text = `SG.${b64u(22)}.${b64u(43)} hvs.${b64u(90)}`;
    assert.equal(only.scan(text).text, `[sendgrid_key] hvs.${b64u(90)}`);
  });
});

describe('SSNs written with spaces', () => {
  it('123 45 6789 as forms print it', () => {
    masks('SSN 123 45 6789.', 'SSN [us_ssn].', 'us_ssn');
    masks('{"ssn": "536 22 1234"}', '{"ssn": "[us_ssn]"}', 'us_ssn');
  });

  it('not inside a run of numbers, not an invalid area, not mixed separators', () => {
    untouched('row 100 20 3000 4');
    untouched('1 123 45 6789');
    untouched('000 12 3456');
    untouched('123-45 6789');
  });
});
