/**
 * A local stand-in for Amazon Transcribe streaming (`StartStreamTranscription`), driven by the real
 * `@aws-sdk/client-transcribe-streaming` through its `endpoint` option. It follows the documented
 * wire protocol: HTTP/2 `POST /stream-transcription` with the `x-amzn-transcribe-*` headers and a
 * SigV4 `Authorization` (recomputed with the configured secret and compared); the request body is
 * an AWS event stream whose messages are signed envelopes (`:date`, `:chunk-signature`, each
 * signature chained on the previous one and recomputed here) around `AudioEvent` messages; an
 * envelope with an empty payload ends the audio. The response is an event stream of `TranscriptEvent` JSON messages.
 * It CHECKS all of that and records every violation in `problems`; it "recognises" the audio with
 * {@link ToneRecognizer}, so the results depend on the PCM it really received.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/core/event-streams';
import { SignatureV4 } from '@smithy/signature-v4';
import { ToneRecognizer, type ToneEvent } from './cloud-tones.js';

const codec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
  (text: string) => new Uint8Array(Buffer.from(text, 'utf8')),
);

export interface AwsStandinOptions {
  /** Expected credentials and region: the Authorization header must name them and verify with the secret. */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Abruptly reset the HTTP/2 session once this much audio (ms) has arrived. */
  dropAfterMs?: number;
  /** Like Transcribe (15 s), end the stream with a BadRequestException after this long without audio. */
  idleCloseMs?: number;
}

export interface AwsStandinRequest {
  path: string;
  headers: http2.IncomingHttpHeaders;
  audioEvents: number;
  audioBytes: number;
  maxChunkBytes: number;
  endOfStream: boolean;
}

export class AwsTranscribeStandin {
  readonly problems: string[] = [];
  readonly requests: AwsStandinRequest[] = [];
  #server = http2.createServer();
  readonly #chains: ChunkChain[] = [];
  #sessions = new Set<http2.ServerHttp2Session>();

  constructor(private readonly options: AwsStandinOptions) {
    this.#server.on('session', (s) => {
      this.#sessions.add(s);
      s.on('close', () => this.#sessions.delete(s));
    });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once every audio envelope received so far had its chunk signature checked. */
  async verified(): Promise<void> {
    await Promise.all(this.#chains.map((c) => c.checked));
  }

  async close(): Promise<void> {
    for (const s of this.#sessions) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #problem(text: string): void {
    this.problems.push(text);
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const req: AwsStandinRequest = { path: String(headers[':path']), headers, audioEvents: 0, audioBytes: 0, maxChunkBytes: 0, endOfStream: false };
    this.requests.push(req);
    const fail = (type: string, message: string): void => {
      this.#problem(message);
      stream.respond({ ':status': 400, 'x-amzn-errortype': type, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ Message: message }));
    };
    if (headers[':method'] !== 'POST' || req.path !== '/stream-transcription') return fail('BadRequestException', `unexpected ${headers[':method']} ${req.path}`);
    const lang = headers['x-amzn-transcribe-language-code'];
    const rate = Number(headers['x-amzn-transcribe-sample-rate']);
    const encoding = headers['x-amzn-transcribe-media-encoding'];
    if (!lang) return fail('BadRequestException', 'x-amzn-transcribe-language-code missing');
    if (!(rate >= 8000 && rate <= 48000)) return fail('BadRequestException', `x-amzn-transcribe-sample-rate ${headers['x-amzn-transcribe-sample-rate']} invalid`);
    if (encoding !== 'pcm') return fail('BadRequestException', `x-amzn-transcribe-media-encoding ${encoding} is not pcm`);
    const auth = String(headers.authorization ?? '');
    const scope = new RegExp(`^AWS4-HMAC-SHA256 Credential=${this.options.accessKeyId}/\\d{8}/${this.options.region}/transcribe/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`);
    if (!scope.test(auth)) return fail('UnrecognizedClientException', `Authorization is not a SigV4 header for ${this.options.accessKeyId}/${this.options.region}/transcribe: ${auth}`);
    if (headers['x-amz-content-sha256'] !== 'STREAMING-AWS4-HMAC-SHA256-EVENTS') this.#problem(`x-amz-content-sha256 is ${headers['x-amz-content-sha256']}`);
    // Verification needs the async signer; audio that arrives meanwhile is buffered by the stream.
    stream.pause();
    void this.#verifySignature(headers, auth).then((v) => {
      if (typeof v === 'string') return fail('InvalidSignatureException', v);
      this.#chains.push(v);
      this.#accept(stream, headers, req, rate, lang, v);
    });
  }

  /** Recomputes the SigV4 signature of the request headers with the configured secret. */
  async #verifySignature(headers: http2.IncomingHttpHeaders, auth: string): Promise<string | ChunkChain> {
    const signedNames = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
    const given = /Signature=([0-9a-f]{64})/.exec(auth)![1]!;
    const amzDate = String(headers['x-amz-date'] ?? '');
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m) return `x-amz-date ${amzDate} is not an ISO basic timestamp`;
    const signingDate = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    const authority = String(headers[':authority'] ?? headers.host ?? '');
    const signed: Record<string, string> = {};
    for (const name of signedNames) signed[name] = name === 'host' ? authority : String(headers[name] ?? '');
    const [hostname, port] = authority.split(':');
    const signer = new SignatureV4({
      service: 'transcribe',
      region: this.options.region,
      credentials: { accessKeyId: this.options.accessKeyId, secretAccessKey: this.options.secretAccessKey },
      sha256: NodeSha256,
    });
    const out = await signer.sign(
      { method: 'POST', protocol: 'http:', hostname: hostname!, port: port ? Number(port) : undefined, path: String(headers[':path']), query: {}, headers: signed },
      { signingDate },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(out.headers.authorization ?? out.headers.Authorization))?.[1];
    return expected === given ? { signer, prior: given, checked: Promise.resolve() } : 'the SigV4 signature does not verify with the configured secret';
  }

  #accept(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, req: AwsStandinRequest, rate: number, lang: unknown, chain: ChunkChain): void {

    stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-request-id': `req-${this.requests.length}` });
    const recognizer = new ToneRecognizer(rate);
    const diarize = headers['x-amzn-transcribe-show-speaker-label'] === 'true';
    const emit = (events: ToneEvent[]): void => {
      for (const e of events) if (!stream.destroyed) stream.write(encodeTranscriptEvent(e, diarize, lang));
    };
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (this.options.idleCloseMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (stream.destroyed) return;
        stream.end(encodeException('BadRequestException', `Your request timed out because no new audio was received for ${this.options.idleCloseMs} ms.`));
      }, this.options.idleCloseMs);
    };
    armIdle();
    stream.on('close', () => clearTimeout(idle));
    let pending = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const total = pending.readUInt32BE(0);
        if (pending.length < total) break;
        const envelope = codec.decode(pending.subarray(0, total));
        pending = pending.subarray(total);
        this.#checkChunkSignature(envelope, chain);
        if (this.#onEnvelope(envelope, req, recognizer, rate, emit)) armIdle();
        if (this.options.dropAfterMs !== undefined && (req.audioBytes / 2 / rate) * 1000 >= this.options.dropAfterMs) {
          stream.session?.destroy();
          return;
        }
      }
    });
    stream.on('end', () => {
      clearTimeout(idle);
      if (!req.endOfStream) this.#problem('request body ended without the empty end-of-stream envelope');
      if (pending.length) this.#problem(`${pending.length} trailing bytes that are not an event-stream message`);
      emit(recognizer.end());
      if (!stream.destroyed) stream.end();
    });
    stream.on('error', () => undefined);
    stream.resume();
  }

  /**
   * Each envelope is signed over its `:date` header and payload, chained on the previous signature
   * (the request's first): recomputed in order, off the audio path.
   */
  #checkChunkSignature(envelope: Message, chain: ChunkChain): void {
    const sig = envelope.headers[':chunk-signature'];
    const date = envelope.headers[':date'];
    if (sig?.type !== 'binary' || date?.type !== 'timestamp') return;
    const given = Buffer.from(sig.value).toString('hex');
    chain.checked = chain.checked.then(async () => {
      const expected = await chain.signer.sign(
        { headers: codec.formatHeaders({ ':date': date }), payload: envelope.body },
        { signingDate: date.value, priorSignature: chain.prior },
      );
      if (expected !== given) this.#problem('an audio envelope :chunk-signature does not verify (chained SigV4)');
      chain.prior = given;
    });
  }

  /** Handles one signed envelope; true when it carried audio. */
  #onEnvelope(envelope: Message, req: AwsStandinRequest, recognizer: ToneRecognizer, rate: number, emit: (e: ToneEvent[]) => void): boolean {
    const sig = envelope.headers[':chunk-signature'];
    const date = envelope.headers[':date'];
    if (sig?.type !== 'binary' || sig.value.length !== 32) this.#problem('an envelope lacks a 32-byte :chunk-signature');
    if (date?.type !== 'timestamp') this.#problem('an envelope lacks a :date timestamp');
    if (envelope.body.length === 0) {
      req.endOfStream = true;
      return false;
    }
    if (req.endOfStream) this.#problem('audio after the end-of-stream envelope');
    const inner = codec.decode(envelope.body);
    const h = (name: string): unknown => inner.headers[name]?.value;
    if (h(':message-type') !== 'event' || h(':event-type') !== 'AudioEvent') {
      this.#problem(`unexpected inner message ${String(h(':message-type'))}/${String(h(':event-type'))}`);
      return false;
    }
    if (h(':content-type') !== 'application/octet-stream') this.#problem(`AudioEvent content-type ${String(h(':content-type'))}`);
    const audio = Buffer.from(inner.body);
    if (audio.length % 2 !== 0) this.#problem(`AudioEvent of ${audio.length} bytes is not whole 16-bit samples`);
    // Transcribe's guidance: chunks of 50–200 ms; anything over ~32 KB is rejected.
    if (audio.length > (rate / 5) * 2) this.#problem(`AudioEvent of ${audio.length} bytes is longer than 200 ms`);
    req.audioEvents++;
    req.audioBytes += audio.length;
    req.maxChunkBytes = Math.max(req.maxChunkBytes, audio.length);
    emit(recognizer.feed(audio));
    return true;
  }
}

interface ChunkChain {
  signer: SignatureV4;
  prior: string;
  checked: Promise<void>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 (or HMAC-SHA256 with a secret) in the shape the Smithy signer expects. */
class NodeSha256 {
  readonly #h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#h.digest();
  }
}

/** A modelled exception inside the response stream, as Transcribe sends it. */
function encodeException(type: string, message: string): Uint8Array {
  const headers: MessageHeaders = {
    ':message-type': { type: 'string', value: 'exception' },
    ':exception-type': { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
  };
  return codec.encode({ headers, body: new Uint8Array(Buffer.from(JSON.stringify({ Message: message }))) });
}

/** A `TranscriptEvent` as Transcribe sends it: times in seconds, `IsPartial`, word Items with Speaker when asked. */
function encodeTranscriptEvent(e: ToneEvent, diarize: boolean, lang: unknown): Uint8Array {
  const first = e.words[0]!;
  const last = e.words[e.words.length - 1]!;
  const body = {
    Transcript: {
      Results: [
        {
          ResultId: `r-${first.startMs}`,
          StartTime: first.startMs / 1000,
          EndTime: last.endMs / 1000,
          IsPartial: !e.final,
          ChannelId: 'ch_0',
          LanguageCode: lang,
          Alternatives: [
            {
              Transcript: e.words.map((w) => w.text).join(' ') + (e.final ? '.' : ''),
              Items: [
                ...e.words.map((w) => ({
                  Type: 'pronunciation',
                  Content: w.text,
                  StartTime: w.startMs / 1000,
                  EndTime: w.endMs / 1000,
                  Confidence: 0.97,
                  Stable: e.final,
                  ...(diarize ? { Speaker: w.speaker } : {}),
                })),
                ...(e.final ? [{ Type: 'punctuation', Content: '.', StartTime: last.endMs / 1000, EndTime: last.endMs / 1000 }] : []),
              ],
            },
          ],
        },
      ],
    },
  };
  const headers: MessageHeaders = {
    ':message-type': { type: 'string', value: 'event' },
    ':event-type': { type: 'string', value: 'TranscriptEvent' },
    ':content-type': { type: 'string', value: 'application/json' },
  };
  return codec.encode({ headers, body: new Uint8Array(Buffer.from(JSON.stringify(body))) });
}
