/**
 * Precision of command-output masking (maskSecretText, as ssh_run and kubectl_exec mask), each
 * with the secret cases beside it that must stay masked: nginx's upstream directives
 * (`proxy_pass http://backend:8080;` is an address; with `user:pw@` it is masked), the line after
 * an empty shell assignment (`TOKEN=` then `fi`), and XML CDATA beyond one section as an
 * element's whole text (blanks around it, split sections, a secret element or named property
 * holding a `<value>` child).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

const same = (texts: string[]) => {
  for (const text of texts) assert.equal(maskSecretText(text), text, text);
};
const masks = (pairs: [string, string][]) => {
  for (const [text, want] of pairs) {
    const count = { n: 0 };
    assert.equal(maskSecretText(text, count), want, text);
    assert.ok(count.n > 0, `counted: ${text}`);
  }
};

test('nginx upstream directives show an address; credentials in it, or a value of another shape, stay masked', () => {
  same([
    'location / {\n  proxy_pass http://backend:8080;\n}\n',
    '    proxy_pass https://api.internal/v1/;',
    'fastcgi_pass unix:/run/php/php8.2-fpm.sock;',
    'fastcgi_pass 127.0.0.1:9000;',
    'grpc_pass grpc://127.0.0.1:50051;',
    'uwsgi_pass $upstream;',
    '/etc/nginx/conf.d/app.conf:    proxy_pass http://backend:8080;',
  ]);
  masks([
    ['  proxy_pass http://admin:hunter2@backend:8080;', '  proxy_pass ***'],
    ['proxy_pass https://user:pw@api.internal/;', 'proxy_pass ***'],
    // Not an address: a password in a variable that happens to be named so.
    ['proxy_pass hunter2', 'proxy_pass ***'],
    ['PROXY_PASS=http://backend:8080', 'PROXY_PASS=***'],
    ['HTTP_PROXY_PASS=hunter2', 'HTTP_PROXY_PASS=***'],
  ]);
  // A token in the address's query is masked by its own name.
  assert.equal(maskSecretText('proxy_pass http://backend/cb?token=abc123;'), 'proxy_pass http://backend/cb?token=***;');
});

test('the line after an empty assignment in a script is not its value; a value on the next line still is', () => {
  same([
    'if [ -z "$CI" ]; then\n  TOKEN=\nfi\necho done\n',
    'for f in a b; do\n  PASSWORD=\ndone\n',
    'case $x in\n  a) API_KEY=\n  ;;\nesac\n',
    'f() {\n  SECRET=\n}\n',
    '  PASSWORD=\nexit\n',
  ]);
  masks([
    ['PASSWORD=\nhunter2', 'PASSWORD=\n***'],
    ['[db]\npassword =\n    hunter2\nhost = db\n', '[db]\npassword =\n    ***\nhost = db\n'],
    ['  PASSWORD=\n  hunter2\n', '  PASSWORD=\n  ***\n'],
  ]);
});

test('XML: CDATA with blanks around it, split CDATA, and a secret element holding a value element are masked', () => {
  masks([
    ['<password>\n  <![CDATA[pw-1]]>\n</password>', '<password>\n  <![CDATA[***]]>\n</password>'],
    ['<password> <![CDATA[pw-2]]> </password>', '<password> <![CDATA[***]]> </password>'],
    ['<secret><![CDATA[pw]]]]><![CDATA[>3]]></secret>', '<secret><![CDATA[***]]><![CDATA[***]]></secret>'],
    ['<password>pw-<![CDATA[4]]></password>', '<password>***<![CDATA[***]]></password>'],
    ['<property name="password"><value>pw-5</value></property>', '<property name="password"><value>***</value></property>'],
    ['<property name="db.password">\n  <value><![CDATA[pw-6]]></value>\n</property>', '<property name="db.password">\n  <value><![CDATA[***]]></value>\n</property>'],
    ['<password><value>pw-7</value></password>', '<password><value>***</value></password>'],
  ]);
  same([
    '<description>\n  <![CDATA[hello <b>world</b>]]>\n</description>',
    '<maxTokens> <![CDATA[4096]]> </maxTokens>',
    '<property name="url"><value><![CDATA[jdbc:postgresql://db/app]]></value></property>',
    '<server><id>nexus</id><username>deploy</username></server>',
    '<password></password><password> <![CDATA[]]> </password>',
    // A container named with a secret word holds named children, each read by its own name.
    '<session-factory>\n  <property name="hibernate.connection.url">jdbc:x</property>\n</session-factory>',
  ]);
  masks([['<credentials><username>deploy</username><password> <![CDATA[pw-8]]> </password></credentials>', '<credentials><username>deploy</username><password> <![CDATA[***]]> </password></credentials>']]);
});
