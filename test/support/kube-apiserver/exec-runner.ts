/**
 * Runs an exec's argv for real, with no shell, in the pod's fixture directory. Absolute paths
 * whose first component exists in the fixture directory (/app, /var, ...) are rewritten to
 * point into it, in every argv word (also inside an `sh -c` script), so `ls /app` lists the
 * pod's files; other paths (/etc/shadow) are left alone and simply do not exist there or are
 * the host's. The environment is the container's env plus PATH, never the test process's.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A running exec. */
export interface RunningExec {
  onStdout(fn: (b: Buffer) => void): void;
  onStderr(fn: (b: Buffer) => void): void;
  /** Exit code (128+n for a signal), after both output streams ended. */
  done: Promise<number>;
  kill(): void;
}

/** Rewrite the absolute paths of one argv word into the fixture directory. */
export function mapPaths(word: string, dir: string): string {
  const tops = new Set(existsSync(dir) ? readdirSync(dir) : []);
  return word.replace(/(^|[\s'"=:|;(<>`])(\/([A-Za-z0-9._-]+))/g, (all, pre: string, path: string, top: string) => (tops.has(top) ? `${pre}${join(dir, path)}` : all));
}

/** Start argv in the fixture dir. */
export function runExec(argv: string[], dir: string, env: Record<string, string>): RunningExec {
  const mapped = argv.map((a) => mapPaths(a, dir));
  const child = spawn(mapped[0]!, mapped.slice(1), {
    cwd: dir,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOSTNAME: 'pod', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: ((b: Buffer) => void)[] = [];
  const err: ((b: Buffer) => void)[] = [];
  child.stdout.on('data', (b: Buffer) => out.forEach((f) => f(b)));
  child.stderr.on('data', (b: Buffer) => err.forEach((f) => f(b)));
  const done = new Promise<number>((resolve) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      const msg = Buffer.from(`exec: "${argv[0]}": ${e.code === 'ENOENT' ? 'executable file not found in $PATH' : e.message}\n`);
      err.forEach((f) => f(msg));
      resolve(e.code === 'ENOENT' ? 127 : 126);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128)));
  });
  return {
    onStdout: (fn) => out.push(fn),
    onStderr: (fn) => err.push(fn),
    done,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The v4/v5 status for an exit code (what the kubelet sends on channel 3). */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [...], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}
