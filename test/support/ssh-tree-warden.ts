/**
 * The lifecycle the SSH end-to-end tests that build a tree on the host share: a real sshd, a
 * 0755 temporary folder, a Warden on the policy `setup` returns once it has built the tree (as the
 * sshd login user's, where it chowns it), all torn down after the file. Registers its own hooks.
 */
import { after, before } from 'node:test';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from './sshd.js';
import { startSshWarden, type SshWarden } from './ssh-warden.js';

export function sshTreeWarden(prefix: string, setup: (sshd: Sshd, base: string) => string | Promise<string>): { sshd: () => Sshd; sw: () => SshWarden } {
  let sshd: Sshd | undefined;
  let sw: SshWarden | undefined;
  let base = '';
  before(async () => {
    sshd = await startSshd();
    base = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(base, 0o755);
    sw = await startSshWarden(sshd, await setup(sshd, base));
  });
  after(async () => {
    await sw?.close();
    await sshd?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });
  return { sshd: () => sshd!, sw: () => sw! };
}
