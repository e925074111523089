/**
 * End to end, red team: masking read a secret beside its name as `NAME=value`, `NAME: value`,
 * JSON members and config-file words, not XML, so `cat` of a Maven settings.xml
 * (`<password>x</password>`), a Spring context (`<property name="password" value="x"/>`), a .NET
 * config (`<add key="DbPassword" value="x" />`) or a Hibernate one (`<property
 * name="hibernate.connection.password">x</property>`) under a grant of cat on its folder showed
 * the password. Through a real sshd: now those values are masked (xml-secrets.ts) and the rest of
 * the file, other settings' values included, is shown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppFixture, type AppFixture } from '../support/ssh-warden.js';

let fx: AppFixture;
let APP = '';

const FIXTURES: Record<string, string> = {
  'settings.xml': '<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>deploy</username>\n      <password>hunter2-maven</password>\n    </server>\n  </servers>\n</settings>\n',
  'beans.xml': '<beans>\n  <bean id="ds" class="org.x.DataSource">\n    <property name="url" value="jdbc:postgresql://db/app"/>\n    <property name="password" value="hunter2-spring"/>\n  </bean>\n</beans>\n',
  'web.config': '<configuration>\n  <appSettings>\n    <add key="DbHost" value="db.internal" />\n    <add key="DbPassword" value="hunter2-dotnet" />\n  </appSettings>\n</configuration>\n',
  'hibernate.cfg.xml': '<hibernate-configuration>\n  <session-factory>\n    <property name="hibernate.connection.username">app</property>\n    <property name="hibernate.connection.password">hunter2-hibernate</property>\n  </session-factory>\n</hibernate-configuration>\n',
};

before(async () => {
  fx = await startAppFixture('wsshxml-', FIXTURES, ['cat']);
  APP = fx.app;
});

after(async () => {
  await fx?.close();
});

describe('ssh_run: secrets in XML configuration', () => {
  test('an element named as a secret, and a tag whose name or key attribute names one, show no value', async () => {
    for (const f of Object.keys(FIXTURES)) {
      const r = await fx.call(`cat ${APP}/${f}`);
      assert.equal(r.isError, false, r.text);
      assert.doesNotMatch(r.text, /hunter2/, `${f}: ${r.text}`);
      assert.match(r.text, /\*\*\*/, f);
    }
  });

  test('the other settings are shown', async () => {
    const beans = await fx.call(`cat ${APP}/beans.xml`);
    assert.match(beans.text, /<property name="url" value="jdbc:postgresql:\/\/db\/app"\/>/);
    assert.match(beans.text, /<property name="password" value="\*\*\*"\/>/);
    const maven = await fx.call(`cat ${APP}/settings.xml`);
    assert.match(maven.text, /<username>deploy<\/username>\n\s+<password>\*\*\*<\/password>/);
    const dotnet = await fx.call(`cat ${APP}/web.config`);
    // `key=` is itself a secret word to the forms (`key="DbHost"` is hidden), its setting's value is shown.
    assert.match(dotnet.text, /<add key=\S+ value="db.internal" \/>/);
  });
});
