/**
 * Deepgram live transcription through the official SDK (`@deepgram/sdk`, `listen.v1`): a WebSocket
 * to `<baseUrl>/v1/listen?encoding=linear16&sample_rate=…&channels=1&model=…&diarize=…
 * &interim_results=…&punctuate=true`, authenticated with `Authorization: Token <key>`. Audio goes
 * as binary messages; `{"type":"KeepAlive"}` every few seconds while no audio flows (Deepgram closes
 * an idle stream after about 10 s); `{"type":"CloseStream"}` asks for the last results, after which
 * Deepgram sends them and closes. The SDK's own reconnect is off: the sink reconnects and resends.
 */
import { DeepgramClient } from '@deepgram/sdk';
import { connectFailed } from './channel.js';
import type { TranscriptionConfig } from './config.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttWord } from './types.js';

/** Silence (no audio sent) after which a KeepAlive goes out. Deepgram's idle timeout is ~10 s. */
const KEEPALIVE_MS = 4000;

interface DeepgramWord {
  word: string;
  punctuated_word?: string;
  start: number;
  end: number;
  confidence?: number;
  speaker?: number;
}
interface DeepgramResults {
  type: 'Results';
  start: number;
  duration: number;
  is_final?: boolean;
  channel?: { alternatives?: { transcript: string; words?: DeepgramWord[]; languages?: string[] }[] };
}

export interface DeepgramTuning {
  /** Silence after which a KeepAlive goes out (default 4 s). */
  keepAliveMs?: number;
}

export function createDeepgramAdapter(config: TranscriptionConfig, tuning: DeepgramTuning = {}): SttAdapter {
  const keepAliveMs = tuning.keepAliveMs ?? KEEPALIVE_MS;
  const client = new DeepgramClient({
    apiKey: config.apiKey ?? '',
    reconnect: false,
    ...(config.baseUrl ? { baseUrl: config.baseUrl.replace(/^http/, 'ws') } : {}),
  });
  return {
    provider: 'deepgram',
    sampleRate: 16000,
    async open(o: SttConnectionOptions, h: SttHandlers): Promise<SttConnection> {
      let socket: Awaited<ReturnType<typeof client.listen.v1.connect>>;
      try {
        socket = await client.listen.v1.connect({
          model: (o.model ?? config.model ?? 'nova-3') as never,
          encoding: 'linear16' as never,
          sample_rate: o.sampleRate,
          channels: 1,
          diarize: String(o.diarize) as never,
          interim_results: String(config.interimResults) as never,
          punctuate: 'true' as never,
          ...(o.language ? { language: o.language as never } : {}),
          reconnectAttempts: 0,
          connectionTimeoutInSeconds: 10,
          ...(config.options ? { queryParams: config.options } : {}),
        });
      } catch (err) {
        throw connectFailed('deepgram', (err as Error).message, err);
      }
      let finishing = false;
      let closed = false;
      let lastSend = Date.now();
      let onFinished: (() => void) | undefined;
      let keepAlive: NodeJS.Timeout | undefined;
      const done = () => {
        if (keepAlive) clearInterval(keepAlive);
        onFinished?.();
      };
      socket.on('message', (m: unknown) => {
        const msg = m as DeepgramResults | { type: string };
        if (msg.type !== 'Results') return;
        const r = msg as DeepgramResults;
        const alt = r.channel?.alternatives?.[0];
        if (!alt) return;
        const words: SttWord[] | undefined = alt.words?.map((w) => ({
          text: w.punctuated_word ?? w.word,
          startMs: Math.round(w.start * 1000),
          endMs: Math.round(w.end * 1000),
          ...(w.confidence !== undefined ? { confidence: w.confidence } : {}),
          ...(w.speaker !== undefined ? { speaker: String(w.speaker) } : {}),
        }));
        h.onResult({
          text: alt.transcript,
          final: r.is_final === true,
          startMs: Math.round(r.start * 1000),
          endMs: Math.round((r.start + r.duration) * 1000),
          ...(words?.length ? { words } : {}),
          ...(alt.languages?.[0] ? { language: alt.languages[0] } : {}),
        });
      });
      socket.on('close', (e: { code?: number; reason?: string }) => {
        if (closed) return;
        closed = true;
        done();
        h.onClose({ expected: finishing, ...(e?.code !== undefined ? { code: e.code } : {}), ...(e?.reason ? { reason: e.reason } : {}) });
      });
      socket.on('error', (err: Error) => h.onWarning?.(`deepgram: ${err.message}`));
      socket.connect();
      try {
        await Promise.race([
          socket.waitForOpen(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
        ]);
      } catch (err) {
        closed = true;
        socket.close();
        throw connectFailed('deepgram', (err as Error).message, err);
      }
      keepAlive = setInterval(() => {
        if (closed || Date.now() - lastSend < keepAliveMs) return;
        lastSend = Date.now();
        try {
          socket.sendKeepAlive({ type: 'KeepAlive' });
        } catch {
          // the close event follows
        }
      }, Math.min(1000, keepAliveMs));
      keepAlive.unref();
      return {
        send(pcm: Buffer) {
          if (closed || finishing) return;
          lastSend = Date.now();
          try {
            socket.sendMedia(pcm);
          } catch (err) {
            h.onWarning?.(`deepgram: ${(err as Error).message}`);
          }
        },
        finish() {
          if (closed) return Promise.resolve();
          finishing = true;
          return new Promise<void>((resolve) => {
            onFinished = resolve;
            try {
              socket.sendCloseStream({ type: 'CloseStream' });
            } catch {
              socket.close();
            }
          });
        },
        close() {
          if (closed) return;
          finishing = true;
          socket.close();
        },
      };
    },
  };
}
