/**
 * kubectl_get objects and command output share one rule for a count beside a secret word
 * (shared/secret-names.ts): `token_count: "12"` in a ConfigMap, an env `{name: MAX_TOKENS,
 * value: "4096"}`, `--max-tokens=4096` are counts and are shown, as `max_tokens=4096` in text
 * already was; a real token beside the same words stays masked. These were masked by name alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanObject } from '../../../tools/kubernetes/clean.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const none = new Set<string>();

test('cleanObject: counts beside secret words are shown, tokens beside the same words are masked', () => {
  const cm = {
    kind: 'ConfigMap',
    metadata: { name: 'llm', labels: { 'max-tokens': '4096', 'api-token': 'LEAK-label' }, annotations: { 'example.com/token_count': '12', 'example.com/token': 'LEAK-annotation' } },
    data: { token_count: '12', max_tokens: '4096', session_timeout: '30', token_count_bad: 'x', api_token: 'LEAK-cm', token_count_x: 'LEAK-notcount', 'settings.env': 'max_tokens=4096\nAPI_TOKEN=LEAK-env' },
  };
  const out = cleanObject('configmaps', cm, none) as { data: Record<string, string>; metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
  assert.deepEqual(out.data, {
    token_count: '12',
    max_tokens: '4096',
    session_timeout: '30',
    token_count_bad: '***',
    api_token: '***',
    token_count_x: '***',
    'settings.env': 'max_tokens=4096\nAPI_TOKEN=***',
  });
  assert.deepEqual(out.metadata.labels, { 'max-tokens': '4096', 'api-token': '***' });
  assert.deepEqual(out.metadata.annotations, { 'example.com/token_count': '12', 'example.com/token': '***' });
  const pod = {
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{
        name: 'llm',
        env: [{ name: 'MAX_TOKENS', value: '4096' }, { name: 'TOKEN_COUNT', value: 'LEAK-env-x' }, { name: 'API_TOKEN', value: 'LEAK-env-token' }],
        args: ['--max-tokens=4096', '--max-tokens', '2048', '--token=LEAK-arg', '--session-timeout', 'LEAK-arg-x'],
      }],
    },
  };
  const c = (cleanObject('pods', pod, none) as { spec: { containers: { env: unknown[]; args: string[] }[] } }).spec.containers[0]!;
  assert.deepEqual(c.env, [{ name: 'MAX_TOKENS', value: '4096' }, { name: 'TOKEN_COUNT', value: '***' }, { name: 'API_TOKEN', value: '***' }]);
  assert.deepEqual(c.args, ['--max-tokens=4096', '--max-tokens', '2048', '--token=***', '--session-timeout', '***']);
});

test('the same names read the same in text and in objects', () => {
  for (const [name, value] of [['token_count', '12'], ['max_tokens', '4096'], ['token_count', 'abc'], ['api_token', '12'], ['session_id', '42']] as const) {
    const text = maskSecretText(`${name}: "${value}"`) === `${name}: "${value}"`;
    const obj = (cleanObject('configmaps', { kind: 'ConfigMap', data: { [name]: value } }, none) as { data: Record<string, string> }).data[name] === value;
    assert.equal(obj, text, `${name}=${value}: object ${obj}, text ${text}`);
  }
});

const k = testCluster('clean-counts');

test('kubectl_get: a ConfigMap and a pod env keep their counts and lose their tokens', async () => {
  const policy = judgedPolicy(`  - id: read
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], kinds: [configmaps, pods] }
`);
  k.server.store.put('configmaps', { metadata: { name: 'llm', namespace: 'shop' }, data: { token_count: '12', api_token: 'LEAK-e2e-cm' } });
  k.server.store.put('pods', { metadata: { name: 'llm-0', namespace: 'shop' }, spec: { containers: [{ name: 'llm', image: 'llm:1', env: [{ name: 'MAX_TOKENS', value: '4096' }, { name: 'HF_TOKEN', value: 'LEAK-e2e-env' }] }] } });
  const tool = kubectlGetTool(() => k.connector);
  for (const [kind, name] of [['configmaps', 'llm'], ['pods', 'llm-0']]) {
    const input = { connection: 'prod', kind, namespace: 'shop', name };
    const facts = await tool.parse(input as never, k.parseCtx);
    assert.equal(policy.decide('kubectl_get', facts).effect, 'allow');
    const out = JSON.stringify(await tool.execute(input as never, facts, policy.ctx(k.ctx, 'kubectl_get')));
    assert.ok(!out.includes('LEAK'), out);
    assert.match(out, kind === 'pods' ? /"name":"MAX_TOKENS","value":"4096"/ : /"token_count":"12"/);
  }
});
