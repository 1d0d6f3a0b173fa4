/**
 * A local stand-in for the Azure AI Speech recognition WebSocket, driven by the real Speech SDK
 * through `SpeechConfig.fromHost`. It speaks the SDK's protocol and CHECKS it: the
 * `Ocp-Apim-Subscription-Key` and `X-ConnectionId` upgrade headers, the `language`/`format`
 * query, text messages (`Path`, `X-RequestId`, `X-Timestamp`, `Content-Type` headers, then a JSON
 * body: `speech.config`, `speech.context`), binary `audio` messages (2-byte big-endian header
 * length, header block, payload) whose first payload is a RIFF/WAVE header giving the PCM format,
 * and the empty `audio` message that ends the stream. It answers `turn.start`,
 * `speech.startDetected`, `speech.hypothesis`, `speech.phrase` (simple or detailed, word offsets,
 * `SpeakerId` for conversation transcription), `speech.endDetected` and `turn.end`, with the
 * request's `X-RequestId`; offsets in 100-ns ticks. Results come from {@link ToneRecognizer}.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ToneRecognizer, type ToneEvent } from './cloud-tones.js';

export interface AzureStandinOptions {
  key: string;
  /** Terminate the socket (no close frame) once this much audio (ms) arrived. */
  dropAfterMs?: number;
}

export interface AzureConnectionRecord {
  path: string;
  query: URLSearchParams;
  paths: string[];
  speechConfig?: Record<string, unknown>;
  speechContext?: Record<string, unknown>;
  wave?: { format: number; channels: number; sampleRate: number; bitsPerSample: number };
  audioBytes: number;
  endOfStream: boolean;
}

const TICKS = 10_000;

export class AzureSpeechStandin {
  readonly problems: string[] = [];
  readonly connections: AzureConnectionRecord[] = [];
  #wss: WebSocketServer | undefined;

  constructor(private readonly options: AzureStandinOptions) {}

  async listen(): Promise<string> {
    this.#wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info, done) => {
        const why = this.#refuse(info.req);
        if (why) {
          this.problems.push(why);
          done(false, 401, why);
        } else done(true);
      },
    });
    this.#wss.on('connection', (ws, req) => this.#onConnection(ws, req));
    await new Promise<void>((resolve) => this.#wss!.once('listening', resolve));
    return `ws://127.0.0.1:${(this.#wss.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const c of this.#wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => this.#wss?.close(() => resolve()) ?? resolve());
  }

  #refuse(req: IncomingMessage): string | undefined {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/speech/recognition/conversation/cognitiveservices/v1') return `unexpected path ${url.pathname}`;
    if (req.headers['ocp-apim-subscription-key'] !== this.options.key) return 'Ocp-Apim-Subscription-Key is missing or wrong';
    if (!/^[0-9A-F]{32}$/i.test(String(req.headers['x-connectionid'] ?? ''))) return 'X-ConnectionId is missing';
    return undefined;
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: AzureConnectionRecord = { path: url.pathname, query: url.searchParams, paths: [], audioBytes: 0, endOfStream: false };
    this.connections.push(record);
    // Output format: the v1 URL's `format` query, or (conversation transcription) speech.context's phraseOutput.
    const detailed = (): boolean =>
      url.searchParams.get('format') === 'detailed' || (record.speechContext?.phraseOutput as { format?: string } | undefined)?.format === 'Detailed';
    let recognizer: ToneRecognizer | undefined;
    let requestId = '';
    let turnOpen = false;
    const send = (path: string, body: object): void => {
      ws.send(`X-RequestId: ${requestId}\r\nContent-Type: application/json; charset=utf-8\r\nPath: ${path}\r\n\r\n${JSON.stringify(body)}`);
    };
    const diarize = (): boolean => {
      const ctx = JSON.stringify(record.speechContext ?? {});
      return /"diarization"|"speakerDiarization"|"SpeakerDiarization"/i.test(ctx);
    };
    const answer = (events: ToneEvent[]): void => {
      for (const e of events) {
        const first = e.words[0]!;
        const last = e.words.at(-1)!;
        const text = e.words.map((w) => w.text).join(' ');
        const offset = first.startMs * TICKS;
        const duration = (last.endMs - first.startMs) * TICKS;
        const speaker = diarize() ? { SpeakerId: `Guest-${Number(first.speaker) + 1}` } : {};
        if (!e.final) {
          if (e.words.length === 1) send('speech.startDetected', { Offset: offset });
          send('speech.hypothesis', { Text: text, Offset: offset, Duration: duration, ...speaker });
          continue;
        }
        const display = text[0]!.toUpperCase() + text.slice(1) + '.';
        send(
          'speech.phrase',
          detailed()
            ? {
                RecognitionStatus: 'Success',
                Offset: offset,
                Duration: duration,
                DisplayText: display,
                NBest: [
                  {
                    Confidence: 0.93,
                    Lexical: text,
                    ITN: text,
                    MaskedITN: text,
                    Display: display,
                    Words: e.words.map((w) => ({ Word: w.text, Offset: w.startMs * TICKS, Duration: (w.endMs - w.startMs) * TICKS, Confidence: 0.93 })),
                  },
                ],
                ...speaker,
              }
            : { RecognitionStatus: 'Success', DisplayText: display, Offset: offset, Duration: duration, ...speaker },
        );
      }
    };
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (!isBinary) {
        const text = buf.toString('utf8');
        const split = text.indexOf('\r\n\r\n');
        const headers = parseHeaders(split < 0 ? text : text.slice(0, split));
        const body = split < 0 ? '' : text.slice(split + 4);
        this.#checkHeaders(headers, 'text');
        record.paths.push(headers.path ?? '?');
        if (headers.path === 'speech.config' || headers.path === 'speech.context') {
          if (!headers['content-type']?.startsWith('application/json')) this.problems.push(`${headers.path} content-type ${headers['content-type']}`);
          try {
            const json = JSON.parse(body) as Record<string, unknown>;
            if (headers.path === 'speech.config') record.speechConfig = json;
            else record.speechContext = json;
          } catch {
            this.problems.push(`${headers.path} body is not JSON`);
          }
        }
        return;
      }
      if (buf.length < 2) return void this.problems.push('a binary message without its header length');
      const headerLength = buf.readUInt16BE(0);
      const headers = parseHeaders(buf.subarray(2, 2 + headerLength).toString('latin1'));
      const payload = buf.subarray(2 + headerLength);
      this.#checkHeaders(headers, 'binary');
      if (headers.path !== 'audio') return void this.problems.push(`binary message with path ${headers.path}`);
      if (headers['x-requestid'] !== requestId) {
        // A new request: its first audio message carries the RIFF header.
        requestId = headers['x-requestid'] ?? '';
        if (headers['content-type'] !== 'audio/x-wav') this.problems.push(`first audio message content-type ${headers['content-type']}`);
        const wave = parseRiff(payload);
        if (!wave) return void this.problems.push('the first audio message is not a RIFF/WAVE header');
        record.wave = wave;
        if (wave.format !== 1 || wave.channels !== 1 || wave.bitsPerSample !== 16) this.problems.push(`audio is not 16-bit mono PCM: ${JSON.stringify(wave)}`);
        if (!record.speechContext) this.problems.push('audio before speech.context');
        recognizer = new ToneRecognizer(wave.sampleRate);
        return;
      }
      if (payload.length === 0) {
        record.endOfStream = true;
        if (recognizer) answer(recognizer.end());
        send('speech.endDetected', { Offset: (recognizer?.samples ?? 0) * (TICKS * 1000) / (record.wave?.sampleRate ?? 16000) });
        send('turn.end', {});
        turnOpen = false;
        return;
      }
      if (payload.length % 2) this.problems.push(`audio payload of ${payload.length} bytes is not whole samples`);
      if (!turnOpen) {
        turnOpen = true;
        send('turn.start', { context: { serviceTag: `tag-${this.connections.length}` } });
      }
      record.audioBytes += payload.length;
      answer(recognizer!.feed(payload));
      if (this.options.dropAfterMs !== undefined && (record.audioBytes / 2 / (record.wave?.sampleRate ?? 16000)) * 1000 >= this.options.dropAfterMs) ws.terminate();
    });
  }

  #checkHeaders(headers: Record<string, string>, kind: string): void {
    if (!headers.path) this.problems.push(`${kind} message without Path`);
    if (!/^[0-9A-F]{32}$/i.test(headers['x-requestid'] ?? '')) this.problems.push(`${kind} ${headers.path} message without an X-RequestId`);
    if (!headers['x-timestamp']) this.problems.push(`${kind} ${headers.path} message without X-Timestamp`);
  }
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function parseRiff(b: Buffer): AzureConnectionRecord['wave'] | undefined {
  if (b.length < 36 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE' || b.toString('ascii', 12, 16) !== 'fmt ') return undefined;
  return { format: b.readUInt16LE(20), channels: b.readUInt16LE(22), sampleRate: b.readUInt32LE(24), bitsPerSample: b.readUInt16LE(34) };
}
