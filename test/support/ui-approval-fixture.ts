// The approval card in real Chromium, standalone: a SQLite store, an approval service, the UI on
// a loopback port, a browser, and one agent session (`sess-agent`, agent-bob over stdio) whose
// calls the tests hold for approval. Torn down with the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { launchChromium } from './chromium.js';

/** Start the fixture in a fresh folder named after `prefix`; everything stops when `t` ends. */
export async function startUiApprovalFixture(t: TestContext, prefix: string, viewport?: { width: number; height: number }) {
  const dir = mkdtempSync(join(tmpdir(), `warden-${prefix}-`));
  const store = openSqliteStore(join(dir, 'w.db'));
  const approvals = createApprovalService(store.approvals, { pollMs: 50, progressEveryMs: 60_000 });
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(dir, viewport);
  const abort = new AbortController();
  t.after(async () => {
    abort.abort();
    await browser.close();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const principal = { subject: 'agent-bob', groups: [], claims: {}, authMethod: 'stdio' as const };
  await store.openSession({ id: 'sess-agent', principal: { subject: 'agent-bob', groups: [], authMethod: 'stdio' }, client: { name: 'agent' }, transport: 'stdio', startedAt: new Date().toISOString() });
  return { dir, store, approvals, ui, browser, abort, principal };
}
