/**
 * The transport floor for the query benchmark: an MCP stdio server on the same SDK and the same
 * serveStdio helper as `warden serve`, with one tool that answers a fixed text the size of
 * Warden's 19-row answer. No database, no governance, no transcript: what any server on this SDK
 * pays per call for framing, JSON-RPC and the two pipes. Run by query.bench.ts as a child process.
 */
import { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const text = process.argv[2] ?? '';
const handle = serveStdio(() => {
  const server = new Server({ name: 'sdk-echo', version: '1' }, { capabilities: { tools: { listChanged: false } } });
  server.setRequestHandler('tools/list', async () => ({ tools: [{ name: 'echo', description: 'fixed answer', inputSchema: { type: 'object' } }] }) as never);
  server.setRequestHandler('tools/call', async () => ({ content: [{ type: 'text', text }] }) as never);
  return server;
});
process.stdin.once('end', () => void handle.close().finally(() => process.exit(0)));
