/**
 * Red team, in real Chromium: cookies do not separate ports, so a page on another port of this
 * host can set `warden_ui` itself, with a longer Path (`/ui/sessions`). The browser sends that
 * cookie first on those pages, and Warden read only the first value: the reviewer was signed out
 * of every session page for good (signing in again did not help: the tossed cookie still came
 * first). Now the session is the one live session the request's cookies name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { seedUi } from '../ui/fixtures.js';
import { launchChromium } from '../support/chromium.js';

test('Chromium: a cookie tossed in from another port does not sign the reviewer out', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-toss-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  await seedUi(store);
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  // The other program on this host, on another port: its page sets a cookie for the host (not the port).
  const other = createServer((req, res) => {
    if (req.url === '/toss.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(`document.cookie = 'warden_ui=tossed-by-another-port; Path=/ui/sessions'; document.getElementById('p').textContent = 'done';`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><p id="p">hello</p><script src="/toss.js"></script>`);
  });
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
  const session = new URL('/ui/sessions/sess-alpha', ui.url).href;

  await page.goto(otherUrl);
  await page.locator('#p', { hasText: 'done' }).waitFor();
  const jar = (await browser.cookies(session)).filter((c) => c.name === 'warden_ui').map((c) => c.path);
  assert.deepEqual(jar.sort(), ['/ui', '/ui/sessions'], 'the other port\'s page did set a second warden_ui cookie');

  await page.goto(session);
  assert.equal(new URL(page.url()).pathname, '/ui/sessions/sess-alpha', 'still signed in on the session page');
  assert.match(await page.locator('h1').innerText(), /sess-alpha/);
});
