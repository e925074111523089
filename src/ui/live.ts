/**
 * Live updates: one poll loop per UI (store head seq plus the pending approval ids), fanned out
 * to every open page over Server-Sent Events. Pages then fetch their region again. Each stream
 * belongs to a reviewer session and ends at the first tick after that session does (logout,
 * expiry, taken off the reviewers); a session holds at most MAX_STREAMS_PER_SESSION of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UiDeps } from './types.js';

/** Live streams one reviewer session may hold open (tabs; a browser opens at most 6 per host over HTTP/1.1). */
export const MAX_STREAMS_PER_SESSION = 8;
/** Live streams of the whole UI; why: each is a socket held open. */
export const MAX_STREAMS = 256;

/** Who a stream belongs to: the session (counted against its cap) and whether it is still live. */
export interface StreamOwner {
  key: object;
  alive(): boolean;
}

/** The change feed; why: one cheap query per tick however many reviewers watch. */
export class LiveFeed {
  private readonly clients = new Map<ServerResponse, StreamOwner>();
  private timer: NodeJS.Timeout | null = null;
  private version = '';
  private ticks = 0;

  constructor(
    private readonly deps: Pick<UiDeps, 'store' | 'approvals' | 'log'>,
    private readonly pollMs: number,
  ) {}

  /**
   * Attach a response as an event stream until the client goes away or its owner's session ends;
   * false (nothing written) when the owner or the UI already holds as many streams as allowed.
   */
  subscribe(req: IncomingMessage, res: ServerResponse, owner: StreamOwner, setHeaders: (res: ServerResponse) => void): boolean {
    let mine = 0;
    for (const o of this.clients.values()) if (o.key === owner.key) mine++;
    if (mine >= MAX_STREAMS_PER_SESSION || this.clients.size >= MAX_STREAMS) return false;
    setHeaders(res);
    res.statusCode = 200;
    res.setHeader('Connection', 'keep-alive');
    res.write('retry: 2000\n\n');
    this.clients.set(res, owner);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.pollMs);
      this.timer.unref();
      void this.tick();
    }
    return true;
  }

  /** Check now (after a decision made through the UI). */
  poke(): void {
    if (this.timer) void this.tick();
  }

  private async tick(): Promise<void> {
    for (const [c, o] of this.clients) {
      if (o.alive()) continue;
      this.clients.delete(c);
      c.end();
    }
    if (this.clients.size === 0) return this.stop();
    try {
      const head = await this.deps.store.headSeq();
      // The pending ids alone: list() would read and parse up to 500 requests' calls every tick.
      const api = this.deps.approvals;
      const pending = api ? (api.pendingIds ? await api.pendingIds(500) : (await api.list({ state: 'pending', limit: 500 })).map((a) => a.id)).join(',') : '';
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
    for (const c of this.clients.keys()) c.write(chunk);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.version = '';
  }

  /** End every stream. */
  close(): void {
    this.stop();
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }
}
