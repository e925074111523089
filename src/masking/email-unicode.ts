/**
 * An email address with letters outside ASCII (`alice@exämple.com`, `иван@пример.рф`): the ASCII
 * email pattern stops at the first such letter and leaves the address whole. Runs after it, only
 * on text that has a non-ASCII character, so ASCII text never pays for the Unicode classes.
 */
import type { Detector, HitCounts } from './detectors.js';

const EMAIL_UNICODE_RE =
  /(?<![\p{L}\p{N}\p{M}._%+-])[\p{L}\p{N}\p{M}._%+-]+@[\p{L}\p{N}][\p{L}\p{N}\p{M}-]*(?:\.[\p{L}\p{N}\p{M}-]+)*\.[\p{L}\p{M}]{2,24}(?![\p{L}\p{N}\p{M}-])/gu;

/** Why: an internationalised address is an address. Reported as `email`. */
export const emailUnicode: Detector = {
  kind: 'email',
  trigger: '@',
  gate: '[^\\x00-\\x7F]',
  run(text: string, hits: HitCounts): string {
    let n = 0;
    const out = text.replace(EMAIL_UNICODE_RE, () => {
      n++;
      return '[email]';
    });
    if (n > 0) hits.email = (hits.email ?? 0) + n;
    return n > 0 ? out : text;
  },
};
