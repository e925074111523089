/**
 * `warden serve --http HOST:PORT` as one call for the CLI: parse the address, serve, hot-reload
 * policies (file change and SIGHUP), and on SIGTERM/SIGINT shut down gracefully (in-flight calls
 * finish and are recorded) before closing the runtime.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { serveOverHttp, type MountHandler } from './http.js';
import { watchPolicies } from './policy-watch.js';
import type { Runtime } from './runtime.js';
import { log } from './log.js';

/** Parse `HOST:PORT`, `:PORT`, `PORT` or `[::1]:PORT`; the host defaults to 127.0.0.1 (loopback). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v) ?? (/^(\d{1,5})$/.exec(v) ? [v, undefined, '', v] : null);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WardenError(ErrorCode.CONFIG, `--http: expected HOST:PORT (e.g. 127.0.0.1:8080), got "${v.slice(0, 100)}"`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Serve until SIGTERM/SIGINT, then shut down gracefully and close the runtime. */
export async function serveHttpUntilSignal(rt: Runtime, listen: string, version: string, mount?: Record<string, MountHandler>): Promise<void> {
  const { host, port } = parseListen(listen);
  const handle = await serveOverHttp(rt, { host, port, version, ...(mount ? { mount } : {}) });
  const stopWatching = watchPolicies(rt, log);
  process.stderr.write(`warden: MCP over Streamable HTTP at ${handle.url}/mcp\n`);
  await new Promise<void>((done) => {
    process.once('SIGTERM', () => done());
    process.once('SIGINT', () => done());
  });
  log('info', 'shutting down: waiting for in-flight calls');
  stopWatching();
  await handle.close();
  await rt.close();
}
