/**
 * xml-secrets.ts: secret-named XML elements and tags whose name/key attribute names a secret
 * lose their value in command output; other elements, empty ones and counts stay.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskXmlSecrets } from '../../../tools/shared/xml-secrets.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

describe('secrets in XML', () => {
  test('elements and named tags are masked, blanks and quotes kept', () => {
    const cases: [string, string][] = [
      ['<password>pw-1</password>', '<password>***</password>'],
      ['<db:Password> pw-2 </db:Password>', '<db:Password> *** </db:Password>'],
      ['<connectionPassword>\n  pw-3\n</connectionPassword>', '<connectionPassword>\n  ***\n</connectionPassword>'],
      ['<property name="password" value="pw-4"/>', '<property name="password" value="***"/>'],
      ["<entry key='apiToken' value='pw-5' />", "<entry key='apiToken' value='***' />"],
      ['<property name="hibernate.connection.password">pw-6</property>', '<property name="hibernate.connection.password">***</property>'],
    ];
    for (const [text, want] of cases) {
      const count = { n: 0 };
      assert.equal(maskXmlSecrets(text, count), want, text);
      assert.equal(count.n, 1, text);
    }
  });

  test('other elements, empty values, masks and counts are shown', () => {
    for (const text of [
      '<username>deploy</username><id>nexus</id>',
      '<password></password><password/><password>***</password>',
      '<property name="url" value="jdbc:x"/><property name="timeout">30</property>',
      '<tokenCount>12</tokenCount><property name="max_tokens" value="4096"/>',
      'a < b and c > d',
    ]) assert.equal(maskXmlSecrets(text), text, text);
  });

  test('a secret element over several lines is masked line by line, its line breaks and indentation kept', () => {
    const count = { n: 0 };
    assert.equal(maskXmlSecrets('<password>\n  user-1\n  pw-7\n</password>', count), '<password>\n  ***\n  ***\n</password>');
    assert.equal(count.n, 1);
    // Lines the line forms masked already are left as they are (an OpenVPN <auth-user-pass> keeps its two lines).
    assert.equal(maskXmlSecrets('<auth-user-pass>\n***\n***\n</auth-user-pass>'), '<auth-user-pass>\n***\n***\n</auth-user-pass>');
  });

  test('through the command-output masker', () => {
    assert.equal(maskSecretText('<server>\n  <password>pw-7</password>\n</server>\n'), '<server>\n  <password>***</password>\n</server>\n');
  });
});
