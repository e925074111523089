/**
 * Vendor API credentials that announce themselves with a fixed prefix (GitHub, GitLab, Slack,
 * Stripe, Google, npm, PyPI, OpenAI, Anthropic). The prefix is each detector's trigger, so text
 * without one costs nothing beyond the scanner's keyword precheck; the full pattern then wants
 * the vendor's body length and alphabet, and no letter or digit glued to either end, so a
 * prefix alone, a short body or a longer identifier that merely contains one stays readable.
 */
import type { Detector, HitCounts } from './detectors.js';

// Not preceded by a letter or digit: "xghp_..." or "desk-proj-..." is some other word.
export const START = '(?<![A-Za-z0-9])';
// For bodies of letters and digits only: a longer run is some other identifier.
export const END = '(?![A-Za-z0-9])';

/** The first capture group of a replace callback's arguments that took part ('' when none did). */
function firstGroup(args: unknown[]): string {
  for (const g of args.slice(1)) {
    if (typeof g !== 'string' && g !== undefined) break; // the offset (a number) ends the groups
    if (g !== undefined) return g;
  }
  return '';
}

/**
 * A detector masking every match of `source` as `[kind]`; shared with service-tokens.ts. With
 * `keepLabel`, the first capture group that took part (a label or identifier travelling with the
 * secret, `AccountKey=`) stays before the mask.
 */
export function prefixed(kind: string, trigger: string, source: string, keepLabel = false): Detector {
  const re = new RegExp(source, 'g');
  const label = `[${kind}]`;
  return {
    kind,
    trigger,
    prefixed: true,
    run(text: string, hits: HitCounts): string {
      let n = 0;
      const out = text.replace(re, (...args: unknown[]) => {
        n++;
        return keepLabel ? `${firstGroup(args)}${label}` : label;
      });
      if (n > 0) hits[kind] = (hits[kind] ?? 0) + n;
      return n > 0 ? out : text;
    },
  };
}

/**
 * Why: a GitHub token is full access to its owner's repositories. Classic and app tokens are
 * `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 base62 (GitHub reserves room to grow, hence up to 255);
 * fine-grained ones are `github_pat_` + 82 characters of base62 and `_`.
 */
export const githubToken = prefixed(
  'github_token',
  'gh[pousr]_|github_pat_',
  `${START}(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82,255})${END}`,
);

/** Why: GitLab personal, deploy, runner and pipeline-trigger tokens (`glpat-` + 20 or more). */
export const gitlabToken = prefixed(
  'gitlab_token',
  'gl(?:pat|dt|rt|ptt)-',
  `${START}gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}(?:\\.[A-Za-z0-9_-]+)*`,
);

/**
 * Why: Slack bot, user, app, refresh and legacy tokens (`xoxb-` ... `xoxs-`, rotating
 * `xoxe.xoxp-`), each a number then more dash-separated parts, and app-level tokens (`xapp-`).
 */
export const slackToken = prefixed(
  'slack_token',
  'xox[abeprs]-|xapp-\\d',
  `${START}(?:(?:xoxe\\.)?xox[abeprs]|xapp)-\\d+-[A-Za-z0-9-]{8,}`,
);

/** Why: an incoming-webhook URL lets anyone who has it post to the channel; the URL is the secret. */
export const slackWebhook = prefixed(
  'slack_webhook',
  'hooks\\.slack\\.com',
  '(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/T[A-Za-z0-9_/-]{8,}',
);

/** Why: Stripe secret and restricted keys, live or test (`sk_live_`, `rk_test_`, ...), and webhook signing secrets (`whsec_`). */
export const stripeKey = prefixed(
  'stripe_key',
  '[sr]k_(?:live|test)_|whsec_',
  `${START}(?:[sr]k_(?:live|test)_[A-Za-z0-9]{20,}${END}|whsec_[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=]))`,
);

/** Why: a Google API key (`AIza` + 35 base64url characters) bills to its project. */
export const googleApiKey = prefixed(
  'google_api_key',
  'AIza',
  '(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])',
);

/** Why: an npm access token (`npm_` + 36 base62) publishes packages as its owner. */
export const npmToken = prefixed('npm_token', 'npm_', `${START}npm_[A-Za-z0-9]{36}${END}`);

/**
 * Why: a PyPI upload token is a macaroon whose base64 starts with the issuer, so the prefix
 * `pypi-AgEIcHlwaS5vcmc` ("pypi.org"; `...AgENdGVzdC5weXBpLm9yZw` for test.pypi.org) is fixed.
 */
export const pypiToken = prefixed(
  'pypi_token',
  'pypi-AgE',
  `${START}pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`,
);

/**
 * Why: OpenAI and Anthropic keys spend money. Only shapes with a fixed marker count: `sk-ant-`
 * plus a versioned kind (`api03-`, `admin01-`, `oat01-`), OpenAI's `sk-proj-`/`sk-svcacct-`/
 * `sk-admin-`, and legacy `sk-` keys, which carry "T3BlbkFJ" (base64 "OpenAI") mid-key. A bare
 * `sk-` + characters is too common a shape to mask.
 */
export const aiApiKey = prefixed(
  'ai_api_key',
  // One `sk-` alternative: a separate "T3BlbkFJ" one costs the token-prefix precheck ~25%.
  'sk-(?:ant-|proj-|svcacct-|admin-|[A-Za-z0-9]{20}T3Bl)',
  `${START}sk-(?:ant-[a-z]{3,5}\\d{2}-[A-Za-z0-9_-]{32,}|(?:proj|svcacct|admin)-[A-Za-z0-9_-]{32,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${END})`,
);

/** Policy names of the vendor-token detectors, in the order they run (see DETECTOR_NAMES). */
export const VENDOR_TOKEN_NAMES: readonly string[] = Object.freeze([
  'github_token',
  'gitlab_token',
  'slack_token',
  'slack_webhook',
  'stripe_key',
  'google_api_key',
  'npm_token',
  'pypi_token',
  'ai_api_key',
]);

/** Which detector each vendor-token name switches on. */
export const VENDOR_TOKENS_BY_NAME: Readonly<Record<string, readonly Detector[]>> = Object.freeze({
  github_token: [githubToken],
  gitlab_token: [gitlabToken],
  slack_token: [slackToken],
  slack_webhook: [slackWebhook],
  stripe_key: [stripeKey],
  google_api_key: [googleApiKey],
  npm_token: [npmToken],
  pypi_token: [pypiToken],
  ai_api_key: [aiApiKey],
});
