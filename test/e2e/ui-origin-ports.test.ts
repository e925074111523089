/**
 * In real Chromium: a page served from another port of the same host is same-site with the
 * reviewer UI (SameSite ignores ports), so the browser sends the reviewer's SameSite=Strict cookie
 * with that page's form POST. Even with the right CSRF token in the form, the approval must not
 * happen; the reviewer's own Approve button on the UI still works. Its <img> and <script> of UI
 * URLs (GETs with the cookie and no Origin) are refused too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { launchChromium } from '../support/chromium.js';

const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 600_000, wait: 0, ruleId: 'fix' },
};

test('Chromium: a page on another port cannot approve with the reviewer\'s cookie; the UI\'s own button can', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-origin-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const approvals = createApprovalService(store.approvals, { pollMs: 20 });
  const rita: Principal = { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'local' };
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined, localPrincipal: rita }, { host: '127.0.0.1', port: 0 });
  const hold = async (sql: string) =>
    ((await approvals.gate({
      callId: `c-${sql.length}`, sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' }, tool: 'query_database', connection: 'db',
      canonicalArgs: { connection: 'db', sql }, decision, factsSummary: 'update; writes public.orders', signal: new AbortController().signal,
    })) as { approvalId: string }).approvalId;
  const target = await hold('UPDATE orders SET total = 0');
  const mine = await hold('UPDATE orders SET total = 1 WHERE id = 7');

  // The other program on this host, on another port: it serves whatever an attacker got into it.
  let attackPage = '';
  const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackPage));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;

  const browser = await launchChromium(dir);
  t.after(async () => {
    await browser.close();
    await new Promise((r) => other.close(r));
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  assert.equal(new URL(page.url()).pathname, '/ui/');
  await page.goto(new URL('/ui/approvals', ui.url).href);
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  assert.ok(csrf, 'the reviewer page carries the CSRF token');

  // The cross-port page is same-site: a link from it lands in the UI signed in (the cookie went along).
  const formPage = `<!doctype html><a id="go" href="${new URL('/ui/', ui.url).href}">go</a>
    <form id="f" method="post" action="${new URL(`/ui/approvals/${target}/approve`, ui.url).href}">
    <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="decision" value="approve"><button id="b">win a prize</button></form>`;
  attackPage = formPage;
  await page.goto(otherUrl);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('#go')]);
  assert.match(await page.locator('header').innerText(), /rita/, 'signed in: the SameSite=Strict cookie crossed ports');

  // Its <img> and <script> of UI URLs carry the cookie too, and no Origin: refused by Warden.
  // Chromium's opaque-response blocking hides the answer from the page (and from Playwright's
  // response events), so the status Warden sent is read from the DevTools protocol.
  const sub = [1, 2, 3].map((i) => new URL(`/ui/events?i=${i}`, ui.url).href).concat(new URL('/ui/?q=orders', ui.url).href);
  attackPage = `<!doctype html>${sub.slice(0, 3).map((u) => `<img src="${u}">`).join('')}<script src="${sub[3]}"></script>`;
  const cdp = await browser.newCDPSession(page);
  await cdp.send('Network.enable');
  // ExtraInfo events may come before or after the request's own event: joined by request id at the end.
  const urls = new Map<string, string>();
  const sent = new Map<string, { site: string | undefined; cookie: boolean }>();
  const status = new Map<string, number>();
  cdp.on('Network.requestWillBeSent', (e) => void (sub.includes(e.request.url) && urls.set(e.requestId, e.request.url)));
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const h = Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    sent.set(e.requestId, { site: h['sec-fetch-site'], cookie: (h.cookie ?? '').includes('warden_ui=') });
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => void status.set(e.requestId, e.statusCode));
  const joined = () => [...urls].filter(([id]) => status.has(id) && sent.has(id)).map(([id, u]) => [u, { status: status.get(id), ...sent.get(id) }] as const);
  await page.goto(otherUrl, { waitUntil: 'commit' });
  for (let i = 0; i < 100 && joined().length < sub.length; i++) await new Promise((r) => setTimeout(r, 100));
  await cdp.detach();
  const seen = new Map(joined());
  assert.deepEqual([...seen.keys()].sort(), [...sub].sort(), 'Chromium requested every subresource');
  for (const [u, v] of seen) assert.deepEqual(v, { status: 403, site: 'same-site', cookie: true }, u);

  attackPage = formPage;
  // The same page's form POST, with the cookie and the right CSRF token: refused, nothing decided.
  await page.goto(otherUrl);
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().includes(`/ui/approvals/${target}/approve`)), page.click('#b')]);
  assert.equal(resp.status(), 403);
  assert.equal((await approvals.get(target))?.state, 'pending');

  // The reviewer's own Approve button (same origin) still works.
  await page.goto(new URL('/ui/approvals', ui.url).href);
  const card = page.locator(`#approval-${mine}`);
  await Promise.all([page.locator('#decided').waitFor(), card.locator('button[value=approve]').click()]);
  assert.match(await page.locator('#decided').innerText(), new RegExp(`You approved request ${mine} `));
  assert.equal((await approvals.get(mine))?.state, 'approved');
  assert.equal((await approvals.get(target))?.state, 'pending');
});
