/**
 * Sends Zoom-style signed webhooks (x-zm-signature v0, x-zm-request-timestamp) with Zoom's retry
 * behaviour: a non-2xx answer or no answer within 3 s is retried, up to 3 times, with backoff.
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { signWebhook, urlValidationResponse } from '../protocol/index.js';
import type { Counters } from './summary.js';

export interface WebhookTarget {
  /** POST here... */
  url?: string;
  /** ...or hand the body to this function (in-process receivers). */
  deliver?: (body: Record<string, unknown>) => unknown;
  secretToken: string;
  timeoutMs?: number;
  retries?: number;
}

/** POSTs one signed body; resolves with the HTTP status (0 when no answer came). */
export function postSigned(url: string, secretToken: string, body: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : request;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...signWebhook(secretToken, body), 'user-agent': 'openrtms-emulator' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, text: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

export class WebhookSender {
  constructor(
    private readonly target: WebhookTarget,
    private readonly counters: Counters,
  ) {}

  /** Sends one webhook with Zoom's retry policy. Resolves true when it was acknowledged. */
  async send(body: Record<string, unknown>): Promise<boolean> {
    const { deliver, url, secretToken } = this.target;
    this.counters.webhooks.sent++;
    if (deliver) {
      try {
        await deliver(body);
        return true;
      } catch {
        this.counters.webhooks.failed++;
        return false;
      }
    }
    const text = JSON.stringify(body);
    const retries = this.target.retries ?? 3;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.counters.webhooks.retried++;
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
      const { status } = await postSigned(url!, secretToken, text, this.target.timeoutMs ?? 3000);
      if (status >= 200 && status < 300) return true;
    }
    this.counters.webhooks.failed++;
    return false;
  }
}

/**
 * Runs Zoom's `endpoint.url_validation` challenge against a webhook URL; resolves true when the
 * answer carries the right `encryptedToken`.
 */
export async function validateEndpoint(url: string, secretToken: string): Promise<boolean> {
  const plainToken = randomBytes(16).toString('base64url');
  const body = JSON.stringify({ event: 'endpoint.url_validation', event_ts: Date.now(), payload: { plainToken } });
  const { status, text } = await postSigned(url, secretToken, body);
  if (status !== 200) return false;
  try {
    const answer = JSON.parse(text) as { plainToken?: string; encryptedToken?: string };
    const expected = urlValidationResponse(secretToken, plainToken);
    return answer.plainToken === expected.plainToken && answer.encryptedToken === expected.encryptedToken;
  } catch {
    return false;
  }
}
