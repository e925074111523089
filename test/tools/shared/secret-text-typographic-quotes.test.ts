/**
 * Typographic quotes around a line a program quotes (GNU tools in a UTF-8 locale: `date: invalid
 * date ‘DB_PASSWORD=x’`; other locales' “ ” « » „ 「 」) open and end values as ASCII quotes do.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

describe('typographic quotes in command output', () => {
  test('a secret assignment or flag inside them is masked, the quotes kept', () => {
    const cases: [string, string][] = [
      ['date: invalid date ‘DB_PASSWORD=pw-one’', 'date: invalid date ‘DB_PASSWORD=***’'],
      ['date: invalid date ‘  password: pw-two’', 'date: invalid date ‘  password: ***’'],
      ['date : date incorrecte « api_token=pw-three »', 'date : date incorrecte « api_token=*** »'],
      ['ungültiges Datum „secret: pw-four“', 'ungültiges Datum „secret: ***“'],
      ['error: “--password pw-five”', 'error: “--password ***”'],
      ['无效日期「DB_PASSWORD=pw-six」', '无效日期「DB_PASSWORD=***」'],
    ];
    for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  });

  test('names that are not secret, in the same quotes, are shown', () => {
    for (const text of ['date: invalid date ‘DB_HOST=db.internal’', 'date: invalid date ‘  port: 5432’', 'it’s fine: “host: x”']) {
      assert.equal(maskSecretText(text), text, text);
    }
  });
});
