/**
 * AlertLog: coded alerts with guidance — Zoom's alert webhooks, handshake failures, app mismatches.
 * Each is logged at error level with its guidance, counted (`openrtms_alerts_total{code}` when a
 * metrics registry is given) and kept in a bounded list for `GET /api/alerts` and the dashboard.
 */
import { Counter, type Registry } from 'prom-client';
import { guidanceForKind, guidanceForStatus, oneLine, type FailureKind, type Guidance } from './guidance.js';

export interface Alert {
  /** Increasing id (per process). */
  id: number;
  /** Stable code: a failure kind (RTMS_START_FAILED, ...) or the client's error code for handshakes. */
  code: string;
  /** Epoch ms. */
  at: number;
  /** What happened, one line. */
  message: string;
  product?: string;
  rtmsStreamId?: string;
  meetingUuid?: string;
  /** Handshake status_code, for handshake failures. */
  status?: number;
  /** The webhook event name, for alert webhooks. */
  event?: string;
  /** The app involved (by name; never a credential). */
  app?: string;
  guidance: Guidance;
}

export interface AlertLogger {
  error?(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

export interface AlertLogOptions {
  logger?: AlertLogger;
  /** Registers `openrtms_alerts_total{code}` here. */
  register?: Registry;
  /** Alerts kept for the API. Default 200. */
  keep?: number;
  /** Told of each alert (live feed, tests). */
  onAlert?: (alert: Alert) => void;
}

/** Copies the plain, short, string or number fields of a webhook payload (never nested objects). */
function brief(payload: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!payload || typeof payload !== 'object') return out;
  for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
    if (typeof v === 'number' || (typeof v === 'string' && v.length <= 500)) out[k] = v;
    if (Object.keys(out).length >= 20) break;
  }
  return out;
}

export class AlertLog {
  readonly #alerts: Alert[] = [];
  readonly #keep: number;
  readonly #counter?: Counter<'code'>;
  #next = 1;

  constructor(private readonly opts: AlertLogOptions = {}) {
    this.#keep = opts.keep ?? 200;
    if (opts.register) {
      this.#counter = new Counter({ name: 'openrtms_alerts_total', help: 'Alerts raised (Zoom alert webhooks, handshake failures, app mismatches), by code', labelNames: ['code'], registers: [opts.register] });
    }
  }

  /** Drops the alerts about a stream (the stream was deleted); how many there were. */
  forget(rtmsStreamId: string): number {
    let n = 0;
    for (let i = this.#alerts.length - 1; i >= 0; i--) {
      if (this.#alerts[i].rtmsStreamId === rtmsStreamId) {
        this.#alerts.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  /** Most recent first. */
  list(limit = this.#keep): Alert[] {
    return this.#alerts.slice(-limit).reverse();
  }

  /** Counts per code since start. */
  raise(a: Omit<Alert, 'id' | 'at'> & { at?: number }): Alert {
    const alert: Alert = { ...a, id: this.#next++, at: a.at ?? Date.now() };
    this.#alerts.push(alert);
    if (this.#alerts.length > this.#keep) this.#alerts.shift();
    this.#counter?.inc({ code: alert.code });
    const log = this.opts.logger;
    const fields = { alert: alert.code, product: alert.product, streamId: alert.rtmsStreamId, status: alert.status, app: alert.app, causes: alert.guidance.causes, fixes: alert.guidance.fixes };
    if (log?.error) log.error(fields, `${alert.message} — ${oneLine(alert.guidance)}`);
    else log?.warn(fields, `${alert.message} — ${oneLine(alert.guidance)}`);
    this.opts.onAlert?.(alert);
    return alert;
  }

  /** A Zoom alert webhook (`rtms.start_failed`, ...), verified by `app`. */
  fromWebhook(event: string, kind: FailureKind, payload: unknown, app?: string, productHint?: string, message?: string): Alert {
    const p = brief(payload);
    const product = productHint ?? (typeof p.product === 'string' ? p.product : undefined);
    const reason = p.reason ?? p.message ?? p.error_message ?? p.status;
    const id = p.meeting_uuid ?? p.session_id ?? p.engagement_id ?? p.call_id ?? p.meeting_id;
    return this.raise({
      code: kind,
      event,
      message: message ?? `Zoom sent ${event}${id !== undefined ? ` for ${String(id)}` : ''}${reason !== undefined ? `: ${String(reason)}` : ''}`,
      ...(product ? { product } : {}),
      ...(typeof p.rtms_stream_id === 'string' ? { rtmsStreamId: p.rtms_stream_id } : {}),
      ...(id !== undefined ? { meetingUuid: String(id) } : {}),
      ...(app ? { app } : {}),
      guidance: guidanceForKind(kind, product),
    });
  }

  /**
   * A handshake the RTMS server refused, from a client's `closed` event error. Signature failures
   * get the signature guidance whatever their number (the status table changed across versions).
   */
  fromHandshake(info: { product: string; rtmsStreamId: string; meetingUuid: string; app?: string }, error: { code: string; message: string; details?: Readonly<Record<string, unknown>> }): Alert | undefined {
    const status = error.details?.status;
    if (typeof status !== 'number') return undefined;
    const guidance = error.code === 'RTMS_SIGNATURE_REJECTED' ? guidanceForKind('RTMS_SIGNATURE_REJECTED', info.product) : guidanceForStatus(status, info.product);
    return this.raise({
      code: error.code,
      status,
      message: `stream ${info.rtmsStreamId} (${info.product}${info.app ? `, app "${info.app}"` : ''}): ${error.message}`,
      product: info.product,
      rtmsStreamId: info.rtmsStreamId,
      meetingUuid: info.meetingUuid,
      ...(info.app ? { app: info.app } : {}),
      guidance,
    });
  }
}
