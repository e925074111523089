/**
 * Built-in content detectors (policy `masking.detectors`).
 *
 * Each detector has a `trigger`: a regex fragment that every real finding must contain. The
 * scanner folds the triggers of the enabled detectors into two prechecks (keywords, digit
 * shapes), so a cell with nothing to find costs two native regex tests (plus the scanner's
 * one-class fold hint, fold.ts). Only cells that pass run the detectors' full patterns, and
 * checksums (Luhn, SSA rules) drop look-alikes.
 */
import { emailUnicode } from './email-unicode.js';
import { privateKeyBody } from './key-body.js';
import { CARD_RUN_RE, cardRunEndsToken, maskCardRun } from './card-runs.js';
import { ssnValid } from './validators.js';
import { VENDOR_TOKEN_NAMES, VENDOR_TOKENS_BY_NAME } from './vendor-tokens.js';
import { SERVICE_TOKEN_NAMES, SERVICE_TOKENS_BY_NAME } from './service-tokens.js';

/** Per-kind hit counters; keys are detector kinds, values are counts (never matched text). */
export type HitCounts = Record<string, number>;

/** One built-in detector: finds its kind of secret and replaces it with a typed placeholder. */
export interface Detector {
  /** Kind used for the placeholder and the hit counter, e.g. 'email'. */
  kind: string;
  /** Regex source every finding contains: the keyword precheck (without digitTail), and the gate unless `gate` is set. */
  trigger: string;
  /**
   * A narrower regex source every finding contains, tested before the full pattern: an '@' in a
   * masked "u***@example.com" passes the precheck, but no address can end in '*'.
   */
  gate?: string;
  /**
   * For digit detectors: what follows three leading digits in every finding. The scanner folds
   * these into one `\d\d\d(?:a|b)` precheck, which irregexp runs far faster than `\d...|\d...`.
   */
  digitTail?: string;
  /**
   * For vendor-token prefixes (`ghp_`, `xoxb-`, ...): the trigger goes into a third precheck of
   * its own; a dozen more words in the keyword alternation cost irregexp about twice as much.
   */
  prefixed?: true;
  /** Replaces every finding in `text`, adding to `hits`; returns `text` itself when none. */
  run(text: string, hits: HitCounts): string;
}

/** Builds a placeholder, e.g. `[email]`; exported so tests and renderers agree on the shape. */
export function placeholder(kind: string): string {
  return `[${kind}]`;
}

function bump(hits: HitCounts, kind: string, n = 1): void {
  hits[kind] = (hits[kind] ?? 0) + n;
}

/** A detector whose every match of `re` is a finding (no extra validation). */
function simple(kind: string, trigger: string, re: RegExp, label = placeholder(kind), gate?: string): Detector {
  return {
    kind,
    trigger,
    ...(gate ? { gate } : {}),
    run(text, hits) {
      let n = 0;
      const out = text.replace(re, () => {
        n++;
        return label;
      });
      if (n > 0) bump(hits, kind, n);
      return n > 0 ? out : text;
    },
  };
}

// PEM blocks up to their END line; a block cut off by output truncation is masked to the end.
const PEM_RE =
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g;
// The same block base64-encoded, as in Kubernetes Secret data ("LS0tLS1CRUdJTi" is "-----BEGIN").
const PEM_B64_RE = /LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}/g;

const privateKey: Detector = {
  kind: 'private_key',
  trigger: '-----|LS0tLS1',
  run(text, hits) {
    let n = 0;
    let out = text;
    if (out.includes('-----BEGIN ')) {
      out = out.replace(PEM_RE, () => {
        n++;
        return '[private_key]';
      });
    }
    if (out.includes('LS0tLS1CRUdJTi')) {
      out = out.replace(PEM_B64_RE, (m) => {
        const head = Buffer.from(m.slice(0, 80), 'base64').toString('latin1');
        if (!/^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY/.test(head)) return m;
        n++;
        return '[private_key]';
      });
    }
    if (n > 0) bump(hits, 'private_key', n);
    return n > 0 ? out : text;
  },
};

// scheme://user:PASSWORD@host: only the password goes; the greedy class backtracks to the last '@'.
const URL_PW_RE = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@?#]*:)([^\s/?#]+)@/g;

const passwordInUrl: Detector = {
  kind: 'password_in_url',
  trigger: '@',
  gate: '://[^\\s/?#@]*@',
  run(text, hits) {
    let n = 0;
    const out = text.replace(URL_PW_RE, (m: string, prefix: string, pw: string) => {
      // Already masked: a result scanned twice, or command output the text masker read (tools/shared/config-secrets.ts).
      if (pw === '[password]' || pw === '***') return m;
      n++;
      return `${prefix}[password]@`;
    });
    if (n > 0) bump(hits, 'password_in_url', n);
    return n > 0 ? out : text;
  },
};

// `Authorization: <scheme> <credentials>` (any scheme) or a bare `Bearer <token>`. The bare form
// wants 16+ token characters so prose such as "Bearer authentication" stays readable.
const BEARER_RE =
  /(?<![A-Za-z0-9])(?:((?:[Aa]uthorization|AUTHORIZATION)["']?\s*[:=]\s*["']?(?:[A-Za-z][A-Za-z0-9-]*[ \t]+)?)([A-Za-z0-9\-._~+/]{8,}=*)|((?:[Bb]earer|BEARER)\s+)([A-Za-z0-9\-._~+/]{16,}=*))/g;

const bearerToken: Detector = {
  kind: 'bearer_token',
  trigger: 'earer|EARER|uthoriz|UTHORIZ',
  run(text, hits) {
    let n = 0;
    const out = text.replace(BEARER_RE, (_m, hdr: string | undefined, _t1, bare: string | undefined) => {
      n++;
      return `${hdr ?? bare ?? ''}[bearer_token]`;
    });
    if (n > 0) bump(hits, 'bearer_token', n);
    return n > 0 ? out : text;
  },
};

// A labelled 40-character AWS secret key: aws_secret_access_key=..., "SecretAccessKey": "...".
const AWS_SECRET_RE =
  /((?:aws[_ -]?)?secret[_ -]?access[_ -]?key|aws[_ -]?secret[_ -]?key)(["']?\s*(?:=>|[:=])\s*["']?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;

const awsSecretKey: Detector = {
  kind: 'aws_secret_key',
  trigger: 'ecret|ECRET',
  run(text, hits) {
    let n = 0;
    const out = text.replace(AWS_SECRET_RE, (_m, label: string, sep: string) => {
      n++;
      return `${label}${sep}[aws_secret_key]`;
    });
    if (n > 0) bump(hits, 'aws_secret_key', n);
    return n > 0 ? out : text;
  },
};

const awsAccessKey = simple(
  'aws_access_key',
  'AKIA|ASIA',
  /(?<![A-Za-z0-9])A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])/g,
);

const jwt = simple(
  'jwt',
  'eyJ',
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g,
);

const email = simple(
  'email',
  '@',
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
  placeholder('email'),
  '[A-Za-z0-9._%+-]@[A-Za-z0-9]',
);

// 123-45-6789, or 123 45 6789 as forms and scanned documents print it; the space form not inside
// a run of numbers ("100 20 3000 4"), where it is more likely a row of figures.
const SSN_RE = /(?<![A-Za-z0-9-])(?:(\d{3})-(\d{2})-(\d{4})(?![A-Za-z0-9-])|(?<!\d )(\d{3}) (\d{2}) (\d{4})(?![A-Za-z0-9-]| \d))/g;

const usSsn: Detector = {
  kind: 'us_ssn',
  trigger: '\\d{3}(?:-\\d{2}-| \\d{2} )\\d{4}',
  digitTail: '(?:-\\d\\d-| \\d\\d )\\d{4}',
  run(text, hits) {
    let n = 0;
    const out = text.replace(SSN_RE, (m, a1?: string, g1?: string, s1?: string, a2?: string, g2?: string, s2?: string) => {
      const a = a1 ?? a2 ?? '';
      const g = g1 ?? g2 ?? '';
      const s = s1 ?? s2 ?? '';
      if (!ssnValid(a, g, s)) return m;
      n++;
      return '[us_ssn]';
    });
    if (n > 0) bump(hits, 'us_ssn', n);
    return n > 0 ? out : text;
  },
};

const creditCard: Detector = {
  kind: 'credit_card',
  trigger: '\\d(?:[ ./-]?\\d){12}',
  // Every finding starts with a group of 4+ digits (or 13+ in a row), then 10 more digits.
  digitTail: '(?:[ ./-]?\\d){10}',
  run(text, hits) {
    let n = 0;
    const onHit = (): void => {
      n++;
    };
    const out = text.replace(CARD_RUN_RE, (m, offset: number) => {
      const end = offset + m.length;
      return cardRunEndsToken(text, end) ? m : maskCardRun(m, onHit);
    });
    if (n > 0) bump(hits, 'credit_card', n);
    return n > 0 ? out : text;
  },
};

/**
 * Detector names a policy may list, in the order they run. Order matters: a PEM block goes
 * before anything could match inside it, a URL password before the email pattern sees
 * `pass@host`, an Authorization header before the JWT it carries, and vendor tokens before the
 * card pattern sees a Slack token's digit runs.
 */
export const DETECTOR_NAMES: readonly string[] = Object.freeze([
  'private_key',
  'password_in_url',
  'bearer_token',
  'aws_access_key',
  'aws_secret_key',
  'jwt',
  ...VENDOR_TOKEN_NAMES,
  ...SERVICE_TOKEN_NAMES,
  'email',
  'us_ssn',
  'credit_card',
]);

/** Which built-in detectors each policy name switches on (aws_access_key covers labelled secrets too). */
export const DETECTORS_BY_NAME: Readonly<Record<string, readonly Detector[]>> = Object.freeze({
  private_key: [privateKey, privateKeyBody],
  password_in_url: [passwordInUrl],
  bearer_token: [bearerToken],
  aws_access_key: [awsSecretKey, awsAccessKey],
  aws_secret_key: [awsSecretKey],
  jwt: [jwt],
  ...VENDOR_TOKENS_BY_NAME,
  ...SERVICE_TOKENS_BY_NAME,
  email: [email, emailUnicode],
  us_ssn: [usSsn],
  credit_card: [creditCard],
});
