/**
 * kubectl_get and kubectl_logs, red team: secrets in XML. A ConfigMap holding a Maven
 * `settings.xml` (`<password>...</password>`), a Tomcat `context.xml`, a Hibernate
 * `<property name="hibernate.connection.password">...</property>` or a .NET `app.config`
 * (`<add key="DbPassword" value="..."/>`) showed the passwords: masking by name read
 * `name=value`, `name: value` and JSON, never an element named `password` nor a name/value
 * pair held in attributes (the last masked the name, `key=***`, and showed the value). Now a
 * secret-named element's text (CDATA too) and the value beside a secret-named `name`/`key`
 * attribute are masked (shared/xml-secrets.ts), in every text masked by name. Through `warden
 * serve`, the real MCP client and the test API server; other XML stays readable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const LEAKS = ['XmlPw-maven-1', 'XmlPw-hib-2', 'XmlPw-net-3', 'XmlPw-cdata-4', 'XmlPw-ns-5', 'XmlPw-entry-6', 'XmlPw-log-7'];
const SETTINGS = `<settings>
  <servers>
    <server>
      <id>nexus</id>
      <username>deployer</username>
      <password>XmlPw-maven-1</password>
    </server>
  </servers>
  <mirrors><mirror><url>https://nexus.example/repo</url></mirror></mirrors>
</settings>
`;
const HIBERNATE = `<hibernate-configuration><session-factory>
  <property name="hibernate.connection.url">jdbc:postgresql://db/shop</property>
  <property name="hibernate.connection.password">XmlPw-hib-2</property>
  <property name="hibernate.connection.pool_size">10</property>
</session-factory></hibernate-configuration>
`;
const APP_CONFIG = `<configuration><appSettings>
  <add key="DbPassword" value="XmlPw-net-3" />
  <add key="Environment" value="production" />
</appSettings>
<secrets><api:token xmlns:api="urn:x"><![CDATA[XmlPw-cdata-4]]></api:token><ns:clientSecret>XmlPw-ns-5</ns:clientSecret></secrets>
<entry key='api.token'>XmlPw-entry-6</entry>
<timeout>30</timeout><maxTokens>4096</maxTokens>
</configuration>
`;

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: [kubectl_get, kubectl_logs]
    kubernetes: { namespaces: [shop], kinds: [pods, configmaps] }
`;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('configmaps', { metadata: { name: 'java-config', namespace: 'shop' }, data: { 'settings.xml': SETTINGS, 'hibernate.cfg.xml': HIBERNATE, 'app.config': APP_CONFIG } });
  server.store.addPod({ namespace: 'shop', name: 'xml-1', labels: { app: 'web' }, containers: [{ name: 'app', logs: [{ line: 'loaded <password>XmlPw-log-7</password> from settings', ageSeconds: 10 }, { line: 'ready <timeout>30</timeout>', ageSeconds: 5 }] }] });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

test('kubectl_get masks passwords in XML ConfigMap values and shows the rest of the XML', async () => {
  const r = await w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop', name: 'java-config' });
  assert.equal(r.isError, false, r.text);
  for (const l of LEAKS) assert.ok(!r.text.includes(l), `${l}: ${r.text}`);
  for (const shown of ['<username>deployer</username>', '<id>nexus</id>', 'jdbc:postgresql://db/shop', '<property name=\\"hibernate.connection.pool_size\\">10</property>',
    'value=\\"production\\"', '<timeout>30</timeout>', '<maxTokens>4096</maxTokens>', '<password>***</password>']) {
    assert.ok(r.text.includes(shown), `${shown} missing: ${r.text}`);
  }
});

test('kubectl_logs masks a password element in a log line and shows other elements', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'xml-1', container: 'app' });
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes('XmlPw-log-7'), r.text);
  assert.match(r.text, /loaded <password>\*\*\*<\/password> from settings/);
  assert.match(r.text, /ready <timeout>30<\/timeout>/);
});
