/**
 * `warden serve` over stdio: nothing but MCP on stdout, logs on stderr. One connection, one
 * principal (from identity.stdio), one transcript session.
 */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { stdioPrincipal } from '../identity/stdio.js';
import { ErrorCode, WardenError } from '../errors.js';
import { createConnectionServer, type ConnectionSession } from './mcp-server.js';
import type { Runtime } from './runtime.js';
import { log } from './log.js';
import { verifiedFromToken } from './http-verifier.js';
import { checkAgentBoundary } from './agent-boundary.js';
import { boundedStdioTransport } from './stdio-framing.js';

/** Serve the runtime on this process's stdin/stdout until stdin closes or stdout fails. */
export async function serveOverStdio(rt: Runtime, version: string): Promise<void> {
  // The agent's client started this process: is its OS user kept from Warden's keys? (agent-boundary.ts; start only, stat only)
  try {
    checkAgentBoundary(rt.config, log);
  } catch (e) {
    await rt.close();
    throw e;
  }
  if (process.env.WARDEN_TOKEN && !rt.config.identity.oidc) {
    throw new WardenError(ErrorCode.UNAUTHENTICATED, 'WARDEN_TOKEN is set but identity.oidc is not configured, so the token cannot be verified; refusing to start');
  }
  // WARDEN_TOKEN with OIDC configured: that verified identity, or no start at all (fail closed).
  const token = process.env.WARDEN_TOKEN;
  const verified = token ? await verifiedFromToken(rt, token) : null;
  const principal = verified ? verified.principal : stdioPrincipal(rt.config.identity.stdio);
  const sessions: ConnectionSession[] = [];
  // One line is one message, bounded like an HTTP body; a bad line is answered, never run (stdio-framing.ts).
  const wire = boundedStdioTransport(rt.config.http.max_body_bytes, (code, message) => log('warn', 'stdio message refused', { code, message }));
  const handle = serveStdio(
    () => {
      const s = createConnectionServer({ pipeline: rt.pipeline, store: rt.store, version, structuredContent: rt.config.responses.structured_content, log }, principal, 'stdio', verified ? { expiresAt: verified.expiresAt } : {});
      sessions.push(s);
      return s.server;
    },
    { transport: wire, onerror: (e) => log('warn', 'stdio transport error', { message: e.message }) },
  );
  // The transport closes itself when stdout fails (EPIPE: the client is gone) and then stops
  // reading stdin, whose end never comes: waiting only on stdin left a process serving no one.
  const wireClosed = new Promise<void>((resolveClosed) => {
    const sdkOnClose = wire.onclose;
    wire.onclose = () => {
      sdkOnClose?.();
      resolveClosed();
    };
  });
  log('info', 'warden serving MCP over stdio', { subject: principal.subject, policy_version: rt.policy().version });
  await new Promise<void>((resolveDone) => {
    const done = () => resolveDone();
    void wireClosed.then(done);
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  for (const s of sessions) await s.close();
  await handle.close().catch(() => undefined);
  await rt.close();
}
