/**
 * AssemblyAI Universal Streaming (v3) through the official SDK (`assemblyai`, StreamingTranscriber):
 * a WebSocket to `<baseUrl>/v3/ws?sample_rate=…&encoding=pcm_s16le&format_turns=true
 * [&speaker_labels=true]`, authenticated with the raw key in `Authorization` (or a temporary
 * `token` query parameter when `options.token` is set). The server answers `Begin`, then `Turn`
 * messages; a turn with `end_of_turn` (and, as turns are formatted, `turn_is_formatted`) is final.
 * Audio goes as binary messages of 50–1000 ms (the sink sends 100 ms); `{"type":"Terminate"}` ends
 * the session, answered by `Termination`. The SDK requires a wss:// URL.
 */
import { StreamingTranscriber, type TurnEvent } from 'assemblyai';
import { connectFailed } from './channel.js';
import type { TranscriptionConfig } from './config.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttWord } from './types.js';

export const ASSEMBLYAI_DEFAULT_URL = 'wss://streaming.assemblyai.com';

export function createAssemblyAiAdapter(config: TranscriptionConfig): SttAdapter {
  const base = (config.baseUrl ?? ASSEMBLYAI_DEFAULT_URL).replace(/^http/, 'ws').replace(/\/v3\/ws$/, '');
  const token = typeof config.options?.token === 'string' ? config.options.token : undefined;
  return {
    provider: 'assemblyai',
    sampleRate: 16000,
    async open(o: SttConnectionOptions, h: SttHandlers): Promise<SttConnection> {
      const t = new StreamingTranscriber({
        websocketBaseUrl: `${base}/v3/ws`,
        ...(token ? { token } : { apiKey: config.apiKey ?? '' }),
        sampleRate: o.sampleRate,
        encoding: 'pcm_s16le',
        formatTurns: true,
        maxConnectionRetries: 0,
        connectTimeout: 10_000,
        ...(o.diarize ? { speakerLabels: true } : {}),
        ...(o.model ?? config.model ? { speechModel: (o.model ?? config.model) as never } : {}),
        ...(o.language ? { languageCodes: [o.language] } : {}),
      });
      let finishing = false;
      let closed = false;
      t.on('turn', (turn: TurnEvent) => {
        const final = turn.end_of_turn && turn.turn_is_formatted;
        if (!final && !config.interimResults) return;
        const words: SttWord[] = (turn.words ?? []).map((w) => ({
          text: w.text,
          startMs: w.start,
          endMs: w.end,
          confidence: w.confidence,
          ...(w.speaker ?? turn.speaker_label ? { speaker: String(w.speaker ?? turn.speaker_label) } : {}),
        }));
        h.onResult({
          text: turn.transcript,
          final,
          startMs: words[0]?.startMs ?? 0,
          endMs: words[words.length - 1]?.endMs ?? 0,
          ...(words.length ? { words } : {}),
          ...(turn.speaker_label ? { speaker: turn.speaker_label } : {}),
          ...(turn.language_code ? { language: turn.language_code } : {}),
        });
      });
      t.on('close', (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        h.onClose({ expected: finishing, code, ...(reason ? { reason } : {}) });
      });
      t.on('error', (err: Error) => h.onWarning?.(`assemblyai: ${err.message}`));
      t.on('warning', (w: unknown) => h.onWarning?.(`assemblyai: ${JSON.stringify(w)}`));
      try {
        await t.connect();
      } catch (err) {
        closed = true;
        throw connectFailed('assemblyai', (err as Error).message, err);
      }
      return {
        send(pcm: Buffer) {
          if (closed || finishing) return;
          try {
            // The SDK takes an ArrayBuffer: the chunk's own bytes (a small Buffer lives in a shared pool).
            t.sendAudio(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length) as ArrayBuffer);
          } catch (err) {
            h.onWarning?.(`assemblyai: ${(err as Error).message}`);
          }
        },
        async finish() {
          if (closed) return;
          finishing = true;
          // Terminate, then the SDK waits for Termination (after the last Turn) before closing.
          await t.close(true, 5000).catch(() => {});
          closed = true;
        },
        close() {
          if (closed) return;
          finishing = true;
          closed = true;
          void t.close(false).catch(() => {});
        },
      };
    },
  };
}
