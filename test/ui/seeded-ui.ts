/**
 * A reviewer UI over a seeded store (fixtures.ts seedUi) on a real HTTP server on 127.0.0.1,
 * whose reviewer check the test can switch off (`setReviewer(false)`): the pages that must stop
 * serving a reviewer taken off the reviewers. Torn down with the test.
 */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSqliteStore } from '../../src/recorder/index.js';
import { mountUi } from '../../src/cli/ui-serve.js';
import { createUiHandler, type UiHandler, type UiStore } from '../../src/ui/index.js';
import { hostPolicy, originAllowed } from '../../src/server/http-origins.js';
import { seedUi } from './fixtures.js';

/** `audience`: the MCP endpoint's public URL (its host passes the Host check); `seed: false` leaves the store empty. */
export async function seededUi(t: TestContext, prefix: string, opts: { audience?: string; seed?: boolean } = {}): Promise<{ ui: UiHandler; base: string; setReviewer(v: boolean): void }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = openSqliteStore(join(dir, 'w.db'));
  if (opts.seed !== false) await seedUi(store);
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const hosts = hostPolicy('127.0.0.1', port, { allowed_hosts: [], allowed_origins: [] }, opts.audience ?? '');
  let reviews = true;
  const ui = createUiHandler({ store: store as unknown as UiStore, baseUrl: base, log: () => undefined, allowsOrigin: (o) => originAllowed(hosts, o), stillReviewer: () => reviews });
  mountUi(server, ui, hosts);
  t.after(async () => {
    ui.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ui, base, setReviewer: (v) => void (reviews = v) };
}
