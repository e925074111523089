/**
 * Red-team follow-ups on secret values outside Secrets, through `warden serve`, the real MCP
 * client and the test API server:
 * - a secret-named member nested in compact JSON (`{"db":{"password":"..."}}`): a structured
 *   log line, an env value holding JSON, a minified ConfigMap file. The key before it
 *   (`"db":`) took the nested object as its own value, and the member was never looked at;
 * - a password given by a program's own flag in a container's argv (`command: [mysqldump,
 *   -phunter2]`, `[curl, -u, alice:pw]`): each argv word was masked alone, away from the
 *   program that gives the flag its meaning;
 * - in log lines: a Secret as one-line YAML flow, a `{"value":...,"name":"DB_PASSWORD"}` pair,
 *   a YAML Secret inside a JSON string, JSON five strings deep (past the decoder's bound).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

/** Planted values: none may reach the agent or the transcript. */
const PW = {
  logNested: 'log-nested-pw-Qa71',
  logArray: 'log-array-key-Wd28',
  logSpaced: 'log-spaced-pw-Ex39',
  logFlow: 'log-flow-pw-Rf40',
  envJson: 'env-json-pw-Tg51',
  cmJson: 'cm-json-token-Yh62',
  secretObject: 'secret-object-value-Uj73',
  mysql: 'mysql-argv-pw-Ik84',
  curl: 'curl-argv-pw-Ol95',
  sshpass: 'sshpass-argv-pw-Pz06',
  split: 'split-argv-pw-Ax17',
  flowSecret: 'Zmxvdy1zZWNyZXQtQmsyOA==',
  valueFirst: 'value-first-pw-Cn39',
  yamlInJson: 'eWFtbC1pbi1qc29uLURvNDA=',
  deep: 'deep-json-pw-Ep51',
};

/** `{"password":PW}` as a JSON string inside a JSON string, five levels: past the decoder's bound. */
const deepJson = (pw: string): string => {
  let s = JSON.stringify({ password: pw });
  for (let i = 0; i < 5; i++) s = JSON.stringify({ msg: s });
  return s;
};

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube());
  server.store.addPod({
    namespace: 'shop',
    name: 'web-json',
    labels: { app: 'web' },
    containers: [
      {
        name: 'app',
        env: { CONFIG: `{"db":{"password":"${PW.envJson}"}}` },
        logs: [
          { line: `{"level":"info","msg":"config","db":{"password":"${PW.logNested}"}}`, ageSeconds: 40 },
          { line: `{"level":"info","clients":[{"apiKey":"${PW.logArray}"}]}`, ageSeconds: 30 },
          { line: `{"level": "info", "db": {"password": "${PW.logSpaced}"}}`, ageSeconds: 20 },
          { line: `level=info db: {password: ${PW.logFlow}}`, ageSeconds: 15 },
          { line: `{"level":"info","credentials":{"user":"alice","value":"${PW.secretObject}"}}`, ageSeconds: 10 },
          { line: `applied {apiVersion: v1, kind: Secret, metadata: {name: db}, data: {k: ${PW.flowSecret}}}`, ageSeconds: 9 },
          { line: `{"env":[{"value":"${PW.valueFirst}","name":"DB_PASSWORD"}]}`, ageSeconds: 8 },
          { line: JSON.stringify({ manifest: `apiVersion: v1\nkind: Secret\ndata:\n  k: ${PW.yamlInJson}\n` }), ageSeconds: 7 },
          { line: deepJson(PW.deep), ageSeconds: 6 },
          { line: '{"usage":{"prompt_tokens":12,"max_tokens":4096}}', ageSeconds: 5 },
        ],
      },
    ],
  });
  server.store.put('configmaps', { metadata: { name: 'app-json', namespace: 'shop' }, data: { 'app.json': `{"upstream":{"token":"${PW.cmJson}"},"port":8080}` } });
  const container = (name: string, command: string[], args?: string[]) => ({ name, image: `registry.example/${name}:1.0`, command, ...(args ? { args } : {}) });
  server.store.put('deployments', {
    metadata: { name: 'backup', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            container('dump', ['mysqldump', '-h', 'db', '-u', 'root', `-p${PW.mysql}`, 'shop']),
            container('probe', ['/usr/bin/curl'], ['-s', '-u', `alice:${PW.curl}`, 'https://api.example/health']),
            container('copy', ['sshpass', '-p', PW.sshpass, 'scp', 'a', 'b:']),
            container('split', ['mysql'], ['--host=db', `-p${PW.split}`]),
          ],
        },
      },
    },
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const leaks = (text: string, values: string[]) => values.filter((v) => text.includes(v));

describe('secret-named members nested in compact JSON', () => {
  test('kubectl_logs: a structured log line loses a nested password, api key or secret-named object', async () => {
    const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'web-json', container: 'app', tail_lines: 20 });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(leaks(r.text, [PW.logNested, PW.logArray, PW.logSpaced, PW.logFlow, PW.secretObject]), []);
    const log = (r.structured as { log: string }).log;
    // A flow-YAML Secret, a value before its name, a YAML Secret in a JSON string, JSON five strings deep.
    assert.deepEqual(leaks(r.text, [PW.flowSecret, PW.valueFirst, PW.yamlInJson, PW.deep]), []);
    assert.match(log, /kind: Secret, metadata: \{name: db\}, data: \*\*\*\}/);
    assert.match(log, /"value":\*\*\*,"name":"DB_PASSWORD"/);
    // Token counts are shown.
    assert.match(log, /"prompt_tokens":12,"max_tokens":4096/);
    assert.match(log, /"level":"info","msg":"config","db":\{"password":\*\*\*\}/);
    assert.match(log, /"user"|\*\*\*/);
  });

  test('kubectl_get: an env value and a ConfigMap file holding compact JSON lose the nested secret', async () => {
    const pod = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-json' });
    assert.equal(pod.isError, false, pod.text);
    assert.deepEqual(leaks(pod.text, [PW.envJson]), []);
    const cm = await w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop', name: 'app-json' });
    assert.equal(cm.isError, false, cm.text);
    assert.deepEqual(leaks(cm.text, [PW.cmJson]), []);
    assert.match(cm.text, /port/);
  });
});

describe('passwords behind a program flag in a container argv', () => {
  test('kubectl_get of a Deployment: mysqldump -pPW, curl -u user:PW, sshpass -p PW, and command + args read as one argv', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'deployments', namespace: 'shop', name: 'backup' });
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(leaks(r.text, [PW.mysql, PW.curl, PW.sshpass, PW.split]), []);
    const containers = (r.structured as { data: { spec: { template: { spec: { containers: { name: string; command: string[]; args?: string[] }[] } } } } }).data.spec.template.spec.containers;
    const by = Object.fromEntries(containers.map((c) => [c.name, c]));
    assert.deepEqual(by.dump!.command, ['mysqldump', '-h', 'db', '-u', 'root', '-p***', 'shop']);
    assert.deepEqual(by.probe!.args, ['-s', '-u', 'alice:***', 'https://api.example/health']);
    assert.deepEqual(by.copy!.command, ['sshpass', '-p', '***', 'scp', 'a', 'b:']);
    assert.deepEqual(by.split!.args, ['--host=db', '-p***']);
  });
});

test('the transcript holds none of the planted values', () => {
  const all = dumpTranscript(dir.dbPath);
  assert.match(all, /kubectl_logs/);
  assert.deepEqual(leaks(all, Object.values(PW)), []);
});
