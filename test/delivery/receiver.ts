/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks each request's
 * signature with its own HMAC code (not openrtms's), and records what it accepted. `behaviour`
 * decides each answer: ok (200), fail (500), slow (answers after `slowMs`), hang (never answers),
 * down (drops the connection).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour = 'ok' | 'fail' | 'slow' | 'hang' | 'down';

export interface Received {
  id: string;
  type: string;
  createdAt: number;
  stream: { rtmsStreamId: string; meetingUuid: string; product: string };
  data: Record<string, any>;
  headers: IncomingMessage['headers'];
  raw: string;
}

export class Receiver {
  behaviour: Behaviour = 'ok';
  slowMs = 300;
  /** Accepted (answered 2xx), in arrival order; duplicates included. */
  readonly accepted: Received[] = [];
  requests = 0;
  badSignatures = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  url = '';

  constructor(readonly secret: string) {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        this.requests++;
        const b = this.behaviour;
        if (b === 'down') return req.socket.destroy();
        if (b === 'hang') return;
        if (b === 'fail') return void res.writeHead(500).end('nope');
        const ts = String(req.headers['x-openrtms-timestamp']);
        const want = 'v1=' + createHmac('sha256', this.secret).update(`v1:${ts}:${raw}`).digest('hex');
        const got = String(req.headers['x-openrtms-signature'] ?? '');
        if (want.length !== got.length || !timingSafeEqual(Buffer.from(want), Buffer.from(got))) {
          this.badSignatures++;
          return void res.writeHead(401).end();
        }
        const answer = () => {
          const body = JSON.parse(raw);
          this.accepted.push({ ...body, headers: req.headers, raw });
          res.writeHead(204).end();
        };
        if (b === 'slow') setTimeout(answer, this.slowMs);
        else answer();
      });
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this.url;
  }

  /** Distinct ids accepted. */
  ids(): Set<string> {
    return new Set(this.accepted.map((r) => r.id));
  }

  /** Accepted events, first copy of each id, in arrival order. */
  unique(): Received[] {
    const seen = new Set<string>();
    return this.accepted.filter((r) => !seen.has(r.id) && seen.add(r.id));
  }

  async waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (accepted ${this.accepted.length}, requests ${this.requests})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }
}
