/**
 * Crafted input against the fold, the Unicode email pattern, the key-body pattern, the bytea
 * reading, the wider card separators and the vendor-token patterns: each must stay linear (no
 * catastrophic backtracking), since the scanner runs on the event loop and a 1 MB result is
 * allowed. The bound is loose (a shared, loaded machine); quadratic behaviour on 200,000
 * characters takes far longer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, compileScanner } from '../../src/masking/index.js';

const scanner = compileScanner({ detectors: [...DETECTOR_NAMES], custom: [{ name: 'ticket', pattern: 'TCK-[0-9]{6}' }] });
const n = 200_000;

const inputs: [string, string][] = [
  ['percent runs', '%41'.repeat(n / 3)],
  ['bad UTF-8 percent runs', '%C3%'.repeat(n / 4)],
  ['JSON escapes', '\\u0041'.repeat(n / 6)],
  ['HTML references', '&#65;'.repeat(n / 5)],
  ['zero-width between letters', 'a\u200B'.repeat(n / 2)],
  ['full-width digits', '４'.repeat(n)],
  ['Devanagari digits', '४'.repeat(n)],
  ['tag characters', String.fromCodePoint(0xe0041).repeat(n / 2)],
  ['marks after ASCII', 'a\u0332'.repeat(n / 2)],
  ['blanks before a bracket', `é${' '.repeat(n)}(x`],
  ['written-out at without a domain', 'é [at] '.repeat(n / 7)],
  ['Unicode local parts', `é${'a@'.repeat(n / 2)}`],
  ['Unicode dotted domain without a TLD', `é@${'a.'.repeat(n / 2)}1`],
  ['Unicode runs and at signs', ('é'.repeat(10) + '@').repeat(n / 11)],
  ['key body starts', 'MHcCAQEE'.repeat(n / 8)],
  ['key body lines', `MHcCAQEE${'AAAA\n'.repeat(n / 5)}`],
  ['key body escaped lines', `MHcCAQEE${'AAAA\\n'.repeat(n / 6)}`],
  ['key body lookbehind', '\\nMII'.repeat(n / 5)],
  ['dotted digit groups', '4111.'.repeat(n / 5)],
  ['slashed digit groups', '1/2/'.repeat(n / 4)],
  ['bytea text', `\\x${'41'.repeat(n / 2)}`],
  ['vendor prefixes back to back', 'ghp_xoxb-1-sk-ant-api03-glpat-AIzanpm_'.repeat(n / 38)],
  ['GitHub bodies one past the bound', `ghp_${'a'.repeat(256)}`.repeat(n / 260)],
  ['Slack digits without a dash', `xoxb-${'1'.repeat(n)}`],
  ['GitLab dotted tail', `glpat-${'a'.repeat(20)}${'.a'.repeat(n / 2)}.`],
  ['Azure key labels back to back', 'AccountKey=SharedAccessKey=&sig='.repeat(n / 32)],
  ['Azure key one character short, repeated', `AccountKey=${'A'.repeat(29)};`.repeat(n / 41)],
  ['SAS signature without an end', `?sig=${'%2B'.repeat(n / 3)}`],
  ['Twilio SIDs without a secret', `AC${'a'.repeat(32)}:`.repeat(n / 35)],
  ['SendGrid first part only', `SG.${'a'.repeat(22)}.`.repeat(n / 26)],
  ['SSN space groups in a row', '123 45 '.repeat(n / 7)],
  ['webhook secrets one short', `whsec_${'a'.repeat(23)}=`.repeat(n / 30)],
  ['Slack app tokens without a body', 'xapp-1-'.repeat(n / 7)],
  ['bytea of zero-width text', `\\x${'e2808b41'.repeat(n / 8)}`],
];

describe('adversarial input stays linear', () => {
  for (const [name, text] of inputs) {
    it(name, () => {
      const t0 = performance.now();
      scanner.scan(text);
      const ms = performance.now() - t0;
      assert.ok(ms < 3000, `${name}: ${text.length} characters took ${ms.toFixed(0)} ms`);
    });
  }
});
