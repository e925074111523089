/**
 * Vendor API tokens (src/masking/vendor-tokens.ts): each format masked wherever it sits, and its
 * near misses (short body, wrong case, glued into a longer word) left alone. Tokens are built at
 * run time from repeated filler so no token-shaped literal sits in the repository for secret
 * scanners (GitHub push protection) to flag.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, compileScanner } from '../../src/masking/index.js';
import { all, masks, untouched } from './scan-asserts.js';

/** `n` characters of base62 filler. */
const b62 = (n: number): string => 'aB3xY9kQ2m'.repeat(Math.ceil(n / 10)).slice(0, n);
/** `n` characters of base64url filler (with `-` and `_`). */
const b64u = (n: number): string => 'Zx-9_Qw7Er'.repeat(Math.ceil(n / 10)).slice(0, n);

const GH = `ghp_${b62(36)}`;
const GH_FINE = `github_pat_${b62(22)}_${b62(59)}`;
const GL = `glpat-${b64u(20)}`;
const SLACK = `xoxb-${'1234567890'}-${'9876543210123'}-${b62(24)}`;
const SLACK_HOOK = `https://hooks.slack.com/services/T0${b62(8).toUpperCase()}/B0${b62(8).toUpperCase()}/${b62(24)}`;
const STRIPE = `sk_live_${b62(24)}`;
const GOOGLE = `AIza${b64u(35)}`;
const NPM = `npm_${b62(36)}`;
const PYPI = `pypi-AgEIcHlwaS5vcmc${b64u(70)}`;
const ANTHROPIC = `sk-ant-api03-${b64u(93)}AA`;
const OPENAI = `sk-proj-${b64u(120)}`;
const OPENAI_LEGACY = `sk-${b62(20)}T3BlbkFJ${b62(20)}`;

const CASES: [string, string, string][] = [
  ['github_token', GH, 'github_token'],
  ['github_token (fine-grained)', GH_FINE, 'github_token'],
  ['gitlab_token', GL, 'gitlab_token'],
  ['slack_token', SLACK, 'slack_token'],
  ['slack_webhook', SLACK_HOOK, 'slack_webhook'],
  ['stripe_key', STRIPE, 'stripe_key'],
  ['google_api_key', GOOGLE, 'google_api_key'],
  ['npm_token', NPM, 'npm_token'],
  ['pypi_token', PYPI, 'pypi_token'],
  ['ai_api_key (Anthropic)', ANTHROPIC, 'ai_api_key'],
  ['ai_api_key (OpenAI project)', OPENAI, 'ai_api_key'],
  ['ai_api_key (OpenAI legacy)', OPENAI_LEGACY, 'ai_api_key'],
];

describe('vendor tokens: masked wherever they sit', () => {
  for (const [name, token, kind] of CASES) {
    it(name, () => {
      const p = `[${kind}]`;
      masks(token, p, kind);
      masks(`export TOKEN=${token}`, `export TOKEN=${p}`, kind);
      masks(`${token} was rotated.`, `${p} was rotated.`, kind);
      masks(`leaked: ${token}`, `leaked: ${p}`, kind);
      masks(JSON.stringify({ token, n: 1 }), JSON.stringify({ token: p, n: 1 }), kind);
      masks(`a=${token}\nb='${token}'`, `a=${p}\nb='${p}'`, kind, 2);
    });
  }

  it('other prefixes of each family', () => {
    for (const pre of ['gho_', 'ghu_', 'ghs_', 'ghr_']) masks(`t ${pre}${b62(36)}`, 't [github_token]', 'github_token');
    for (const pre of ['xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe.xoxp-']) {
      masks(`t ${pre}1-${b62(30)}`, 't [slack_token]', 'slack_token');
    }
    for (const pre of ['rk_live_', 'sk_test_', 'rk_test_']) masks(`t ${pre}${b62(30)}`, 't [stripe_key]', 'stripe_key');
    masks(`t gldt-${b64u(20)}`, 't [gitlab_token]', 'gitlab_token');
    masks(`t pypi-AgENdGVzdC5weXBpLm9yZw${b64u(60)}`, 't [pypi_token]', 'pypi_token');
    masks(`t sk-ant-admin01-${b64u(90)}`, 't [ai_api_key]', 'ai_api_key');
    masks(`t sk-svcacct-${b64u(64)}`, 't [ai_api_key]', 'ai_api_key');
  });

  it('a policy can switch on one vendor alone', () => {
    const gh = compileScanner({ detectors: ['github_token'] });
    assert.deepEqual(gh.scan(`${GH} ${NPM}`), { text: `[github_token] ${NPM}`, hits: { github_token: 1 } });
  });

  it('every vendor name is a known detector', () => {
    for (const [, , kind] of CASES) assert.ok(DETECTOR_NAMES.includes(kind), kind);
  });

  it('a Slack token is one finding, not a card plus leftovers', () => {
    masks(`t xoxb-4111111111111111-${b62(24)}`, 't [slack_token]', 'slack_token');
  });

  it('is idempotent on its own output', () => {
    const once = all.scan(CASES.map(([, t]) => t).join(' '));
    assert.equal(all.scan(once.text).text, once.text);
    assert.deepEqual(all.scan(once.text).hits, {});
  });
});

describe('vendor tokens: near misses stay readable', () => {
  const innocent = [
    // too short
    `ghp_${b62(35)}`,
    `github_pat_${b62(40)}`,
    `glpat-${b64u(19)}`,
    'xoxb-123-abc',
    `sk_live_${b62(10)}`,
    `AIza${b64u(34)}`,
    `npm_${b62(35)}`,
    `pypi-AgEIcHlwaS5vcmc${b64u(20)}`,
    `sk-ant-api03-${b64u(20)}`,
    `sk-${b62(20)}T3BlbkFJ${b62(5)}`,
    // too long for a fixed-length body
    `npm_${b62(37)}`,
    `AIza${b64u(36)}`,
    // wrong case or wrong prefix
    `GHP_${b62(36)}`,
    `ghx_${b62(36)}`,
    `XOXB-1234567890-${b62(24)}`,
    `SK_LIVE_${b62(24)}`,
    `sk_prod_${b62(24)}`,
    `aiza${b64u(35)}`,
    `NPM_${b62(36)}`,
    `GLPAT-${b64u(20)}`,
    `PYPI-AgEIcHlwaS5vcmc${b64u(70)}`,
    `sk-${b62(48)}`,
    `sk-foo-${b64u(60)}`,
    // glued into a longer word
    `xghp_${b62(36)}`,
    `mysk_live_${b62(24)}`,
    `task-proj-${b64u(60)}`,
    `Xglpat-${b64u(20)}`,
    `anpm_${b62(36)}`,
    `_AIza${b64u(35)}`,
    // prose and config that only mention the prefixes
    'set GITHUB_TOKEN to your ghp_ token',
    'npm_config_registry=https://registry.npmjs.org/ npm_package_version=1.2.3',
    'see https://hooks.slack.com/services for webhooks',
    'disk-proj-01 and risk-admin-panel',
    'Stripe keys start with sk_live_ or sk_test_',
  ];
  for (const text of innocent) {
    it(JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text), () => untouched(text));
  }
});

describe('vendor tokens: existing detections unchanged', () => {
  it('headers, URLs and keys carrying a vendor token keep their own kind', () => {
    masks(`Authorization: Bearer ${GH}`, 'Authorization: Bearer [bearer_token]', 'bearer_token');
    masks(`https://x-access-token:${GH}@github.com/o/r.git`, 'https://x-access-token:[password]@github.com/o/r.git', 'password_in_url');
  });

  it('the other kinds beside vendor tokens', () => {
    const res = all.scan(`alice@example.com ${GH} 123-45-6789 ${STRIPE} AKIAIOSFODNN7EXAMPLE 4111111111111111`);
    assert.equal(res.text, '[email] [github_token] [us_ssn] [stripe_key] [aws_access_key] [credit_card]');
    assert.deepEqual(res.hits, { aws_access_key: 1, github_token: 1, stripe_key: 1, email: 1, us_ssn: 1, credit_card: 1 });
  });
});
