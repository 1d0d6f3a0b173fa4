/** What the cluster keeps per stream, per lease and per worker (JSON values of the KV buckets). */
import type { Product } from '../protocol/index.js';
import type { StreamEvent } from '../webhook/handler.js';

/** A stream as the cluster knows it: written by the worker that applied its webhooks. */
export interface StreamRecord {
  rtmsStreamId: string;
  product: Product;
  meetingUuid: string;
  operatorId?: string;
  /** The `rtms_started` webhook event name and payload (server_urls included): enough to (re)join. */
  event: string;
  payload: StreamEvent['payload'];
  /** Name of the configured app whose secret token signed the start webhook (joins use its credentials). */
  app?: string;
  /** ms since epoch, when the cluster first heard of it. */
  startedAt: number;
  state: 'active' | 'stopped';
  stoppedAt?: number;
  /** Why it stopped: the stop webhook, or the owner's client ended for good (terminated, kicked...). */
  stopCause?: string;
  /** After the stop: a worker made sure the recording was closed (closing it if its owner had died). */
  finalized?: boolean;
  finalizeError?: string;
  /** `event_ts` of the latest `*.rtms_interrupted` (the owner reconnects at once when it changes). */
  interruptedAt?: number;
}

/** The owner's claim on a stream, renewed while it is connected; expires with the bucket's TTL. */
export interface LeaseRecord {
  worker: string;
  /** ms since epoch of this renewal. */
  at: number;
  /** The owner's client state and counters, so a gateway can show them. */
  state: string;
  participants: number;
  frames: Record<string, number>;
  reconnects: number;
}

/** A worker's heartbeat. */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  load: number;
  maxStreams: number;
  at: number;
}

const decoder = new TextDecoder();

/** Parses a KV value written by openrtms; undefined for anything else (never throws). */
export function decodeRecord<T>(value: Uint8Array): T | undefined {
  try {
    return JSON.parse(decoder.decode(value)) as T;
  } catch {
    return undefined;
  }
}

export const encodeRecord = (value: object): Uint8Array => Buffer.from(JSON.stringify(value));

/** The stream event a worker replays to join a stream from its record. */
export function startEventOf(r: StreamRecord): StreamEvent {
  return { lifecycle: 'started', product: r.product, event: r.event, rtmsStreamId: r.rtmsStreamId, meetingUuid: r.meetingUuid, payload: r.payload, ...(r.app ? { app: r.app } : {}) };
}
