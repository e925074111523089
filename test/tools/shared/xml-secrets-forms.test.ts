/**
 * Secrets in XML (shared/xml-secrets.ts, through maskSecretText as every tool masks text; the
 * kubectl red-team's cases, beside xml-secrets.test.ts's from the ssh_run one): a
 * secret-named element's text, the text and `value` attribute beside a secret-named `name`/`key`
 * attribute, in the shapes real configuration files take; other XML stays as it was. Long runs of
 * tags and attributes (the patterns' repeats) are read through, with the right answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

test('secret-named elements and attribute name/value pairs are masked', () => {
  const cases: [string, string][] = [
    ['<password>pw-1</password>', '<password>***</password>'],
    ['  <db.password>pw-2</db.password>', '  <db.password>***</db.password>'],
    ['<ns:clientSecret>pw-3</ns:clientSecret>', '<ns:clientSecret>***</ns:clientSecret>'],
    ['<api:token><![CDATA[pw-4]]></api:token>', '<api:token><![CDATA[***]]></api:token>'],
    ['<property name="hibernate.connection.password">pw-5</property>', '<property name="hibernate.connection.password">***</property>'],
    ['<property name="spring.datasource.password" value="pw-6"/>', '<property name="spring.datasource.password" value="***"/>'],
    ['<env name="DB_PASSWORD" value="pw-7" />', '<env name="DB_PASSWORD" value="***" />'],
    ['<param name="apiKey" value=\'pw"8>x\'/>', '<param name="apiKey" value=\'***\'/>'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  // The name of a .NET pair was masked as a value (`key=***`); the value now is too.
  const net = maskSecretText('<add key="DbPassword" value="pw-9" />');
  assert.ok(!net.includes('pw-9'), net);
});

test('other XML, counts beside secret words and empty secret elements stay as they are', () => {
  for (const text of [
    '<settings><id>nexus</id><username>deployer</username><url>https://nexus.example/repo</url></settings>',
    '<maxTokens>4096</maxTokens>',
    '<password></password>',
    '<property name="hibernate.connection.pool_size">10</property>',
    '<env name="LOG_LEVEL" value="debug"/>',
    '<p>Forgot your password? <a href="/reset">Reset it</a></p>',
  ]) assert.equal(maskSecretText(text), text);
});

test('long runs of tags and attributes are read through with the right answer', () => {
  const attrs = `<x${' a="1"'.repeat(40_000)}>`;
  assert.equal(maskSecretText(attrs), attrs);
  const pairs = '<add key="Tier" value="gold"/>'.repeat(10_000) + '<add key="ApiToken" value="pw-10"/>';
  const out = maskSecretText(pairs);
  assert.ok(!out.includes('pw-10') && out.includes('value="gold"'), out.slice(-200));
  const open = `<password>${'a'.repeat(100_000)}<![CDATA[${'<![CDATA['.repeat(10_000)}`;
  assert.equal(maskSecretText(open), open);
  const nested = `${'<a b="1">'.repeat(20_000)}<password>pw-11</password>${'</a>'.repeat(20_000)}`;
  assert.ok(!maskSecretText(nested).includes('pw-11'));
});

test('a value over several lines is masked line by line: the text keeps its line count', () => {
  const text = '<settings>\n  <password>\n    line-one-pw\n    line-two-pw\n  </password>\n  <id>x</id>\n</settings>';
  const out = maskSecretText(text);
  assert.ok(!out.includes('line-one-pw') && !out.includes('line-two-pw'), out);
  assert.equal(out.split('\n').length, text.split('\n').length, out);
  assert.match(out, /<id>x<\/id>/);
});
