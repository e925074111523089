/**
 * The reference's transport floor: the echo of sdk-echo-server.ts, but on the MCP SDK the
 * reference Postgres server ships with (its own nested @modelcontextprotocol/sdk 1.x), so the
 * query bench can say how much of the gap is the SDK generation rather than governance. Loaded
 * from the reference package's own dependency tree, wherever npm placed it. Run by query.bench.ts.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo.js';

type Sdk1Server = {
  setRequestHandler(schema: unknown, handler: () => Promise<unknown>): void;
  connect(transport: unknown): Promise<void>;
};

const text = process.argv[2] ?? '';
const fromReference = createRequire(join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-postgres', 'dist', 'index.js'));
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(fromReference.resolve(`@modelcontextprotocol/sdk/${path}`)).href)) as T;
const { Server } = await load<{ Server: new (info: object, opts: object) => Sdk1Server }>('server/index.js');
const { StdioServerTransport } = await load<{ StdioServerTransport: new () => unknown }>('server/stdio.js');
const { CallToolRequestSchema, ListToolsRequestSchema } = await load<{ CallToolRequestSchema: unknown; ListToolsRequestSchema: unknown }>('types.js');
const server = new Server({ name: 'sdk1-echo', version: '1' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', description: 'fixed answer', inputSchema: { type: 'object' } }] }));
server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text }] }));
await server.connect(new StdioServerTransport());
