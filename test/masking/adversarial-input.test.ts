/**
 * Crafted input against the fold, the Unicode email pattern, the key-body pattern, the bytea
 * reading, the wider card separators and the vendor-token patterns: each must stay linear (no
 * catastrophic backtracking), since the scanner runs on the event loop and a 1 MB result is
 * allowed. Each input is built at 50,000 and 200,000 characters: four times the text may cost at
 * most eight times as much, and the larger under 3 s (support/best-of.ts assertLinear, which
 * measures again before it fails, so a burst of load on a shared machine does not fail it;
 * quadratic behaviour fails every measurement).
 */
import { describe, it } from 'node:test';
import { assertLinear } from '../support/best-of.js';
import { DETECTOR_NAMES, compileScanner } from '../../src/masking/index.js';

const scanner = compileScanner({ detectors: [...DETECTOR_NAMES], custom: [{ name: 'ticket', pattern: 'TCK-[0-9]{6}' }] });
const inputs: [string, (n: number) => string][] = [
  ['percent runs', (n) => '%41'.repeat(n / 3)],
  ['bad UTF-8 percent runs', (n) => '%C3%'.repeat(n / 4)],
  ['JSON escapes', (n) => '\\u0041'.repeat(n / 6)],
  ['HTML references', (n) => '&#65;'.repeat(n / 5)],
  ['zero-width between letters', (n) => 'a\u200B'.repeat(n / 2)],
  ['full-width digits', (n) => '４'.repeat(n)],
  ['Devanagari digits', (n) => '४'.repeat(n)],
  ['tag characters', (n) => String.fromCodePoint(0xe0041).repeat(n / 2)],
  ['marks after ASCII', (n) => 'a\u0332'.repeat(n / 2)],
  ['blanks before a bracket', (n) => `é${' '.repeat(n)}(x`],
  ['written-out at without a domain', (n) => 'é [at] '.repeat(n / 7)],
  ['Unicode local parts', (n) => `é${'a@'.repeat(n / 2)}`],
  ['Unicode dotted domain without a TLD', (n) => `é@${'a.'.repeat(n / 2)}1`],
  ['Unicode runs and at signs', (n) => ('é'.repeat(10) + '@').repeat(n / 11)],
  ['key body starts', (n) => 'MHcCAQEE'.repeat(n / 8)],
  ['key body lines', (n) => `MHcCAQEE${'AAAA\n'.repeat(n / 5)}`],
  ['key body escaped lines', (n) => `MHcCAQEE${'AAAA\\n'.repeat(n / 6)}`],
  ['key body lookbehind', (n) => '\\nMII'.repeat(n / 5)],
  ['dotted digit groups', (n) => '4111.'.repeat(n / 5)],
  ['slashed digit groups', (n) => '1/2/'.repeat(n / 4)],
  ['bytea text', (n) => `\\x${'41'.repeat(n / 2)}`],
  ['vendor prefixes back to back', (n) => 'ghp_xoxb-1-sk-ant-api03-glpat-AIzanpm_'.repeat(n / 38)],
  ['GitHub bodies one past the bound', (n) => `ghp_${'a'.repeat(256)}`.repeat(n / 260)],
  ['Slack digits without a dash', (n) => `xoxb-${'1'.repeat(n)}`],
  ['GitLab dotted tail', (n) => `glpat-${'a'.repeat(20)}${'.a'.repeat(n / 2)}.`],
  ['Azure key labels back to back', (n) => 'AccountKey=SharedAccessKey=&sig='.repeat(n / 32)],
  ['Azure key one character short, repeated', (n) => `AccountKey=${'A'.repeat(29)};`.repeat(n / 41)],
  ['SAS signature without an end', (n) => `?sig=${'%2B'.repeat(n / 3)}`],
  ['Twilio SIDs without a secret', (n) => `AC${'a'.repeat(32)}:`.repeat(n / 35)],
  ['SendGrid first part only', (n) => `SG.${'a'.repeat(22)}.`.repeat(n / 26)],
  ['SSN space groups in a row', (n) => '123 45 '.repeat(n / 7)],
  ['webhook secrets one short', (n) => `whsec_${'a'.repeat(23)}=`.repeat(n / 30)],
  ['Slack app tokens without a body', (n) => 'xapp-1-'.repeat(n / 7)],
  ['bytea of zero-width text', (n) => `\\x${'e2808b41'.repeat(n / 8)}`],
];

describe('adversarial input stays linear', () => {
  for (const [name, make] of inputs) {
    it(name, () => {
      assertLinear(name, make, (text) => scanner.scan(text), { small: 50_000, maxMs: 3000 });
    });
  }
});
