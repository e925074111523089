/**
 * Live updates: one poll loop per UI (store head seq plus the pending approval ids), fanned out
 * to every open page over Server-Sent Events. Pages then fetch their region again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UiDeps } from './types.js';

/** The change feed; why: one cheap query per tick however many reviewers watch. */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private version = '';
  private ticks = 0;

  constructor(
    private readonly deps: Pick<UiDeps, 'store' | 'approvals' | 'log'>,
    private readonly pollMs: number,
  ) {}

  /** Attach a response as an event stream until the client goes away. */
  subscribe(req: IncomingMessage, res: ServerResponse, setHeaders: (res: ServerResponse) => void): void {
    setHeaders(res);
    res.statusCode = 200;
    res.setHeader('Connection', 'keep-alive');
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.pollMs);
      this.timer.unref();
      void this.tick();
    }
  }

  /** Check now (after a decision made through the UI). */
  poke(): void {
    if (this.timer) void this.tick();
  }

  private async tick(): Promise<void> {
    try {
      const head = await this.deps.store.headSeq();
      const pending = this.deps.approvals ? (await this.deps.approvals.list({ state: 'pending', limit: 500 })).map((a) => a.id).join(',') : '';
      const v = `${head}|${pending}`;
      if (v !== this.version) {
        const first = this.version === '';
        this.version = v;
        if (!first) this.broadcast(`event: change\ndata: ${head}\n\n`);
      } else if (++this.ticks % 15 === 0) {
        this.broadcast(': keep-alive\n\n');
      }
    } catch (e) {
      this.deps.log('warn', 'ui live update check failed', { message: (e as Error).message });
    }
  }

  private broadcast(chunk: string): void {
    for (const c of this.clients) c.write(chunk);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.version = '';
  }

  /** End every stream. */
  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
