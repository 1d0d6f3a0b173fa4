/**
 * The config file's `transcription` list: each entry streams a stream's audio to one speech-to-text
 * provider. Errors are one line starting with the JSON path; credentials (`apiKey`, `secretAccessKey`)
 * are never echoed.
 */
import { ConfigError } from '../../errors.js';
import { parseStreamMatch, type StreamMatch } from '../../config/match.js';

/** Every provider name the config accepts (each has an adapter in providers.ts). */
export const STT_PROVIDER_NAMES = ['deepgram', 'assemblyai', 'openai', 'aws-transcribe', 'azure-speech', 'zoom-scribe'] as const;
export type SttProviderName = (typeof STT_PROVIDER_NAMES)[number];

/** Providers that cannot work without an API key (openai may be a local server that needs none). */
const KEY_REQUIRED: readonly SttProviderName[] = ['deepgram', 'assemblyai', 'azure-speech'];

/** Which streams an entry transcribes (default: all). */
export type TranscriptionMatch = StreamMatch;

export interface TranscriptionConfig {
  /** The track's `source` (API `?source=`, file names): default the provider name (`deepgram2` for a second one). */
  name: string;
  provider: SttProviderName;
  apiKey?: string;
  /** The vendor's endpoint (a local stand-in, a proxy, a self-hosted server). Default: the vendor's. */
  baseUrl?: string;
  model?: string;
  /** `per-speaker`: one connection per participant when Zoom sends audio per participant (exact labels); `mixed`: one connection, the provider's diarization. */
  audio: 'per-speaker' | 'mixed';
  /** BCP-47 language hint (`en`, `en-US`, `de`…). */
  language?: string;
  /** Only streams of these products / meeting ids (default: every stream). */
  match?: TranscriptionMatch;
  /** Audio held per connection while the provider is unreachable or has not confirmed it (default 30 s); beyond it the oldest is dropped and counted. */
  bufferSeconds: number;
  /** Seconds of audio per request for request-based providers (openai; default 5). */
  chunkSeconds: number;
  /** Ask for interim results where the provider has them (default true; only final results are stored). */
  interimResults: boolean;
  /** Cloud region (aws-transcribe, azure-speech). */
  region?: string;
  /** AWS credentials (default: the AWS SDK's chain). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Zoom Build API secret that signs zoom-scribe's JWT (its key is `apiKey`). */
  apiSecret?: string;
  /** Vendor-specific settings passed to the adapter as they are (documented per adapter). */
  options?: Record<string, unknown>;
}

const KEYS = ['provider', 'name', 'apiKey', 'baseUrl', 'model', 'audio', 'language', 'match', 'bufferSeconds', 'chunkSeconds', 'interimResults', 'region', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'apiSecret', 'options'];

const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });
type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(obj: Obj, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw bad(`${path}.${key}`, 'expected a non-empty string');
  return v;
}

function num(obj: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`${path}.${key}`, `expected a number from ${min} to ${max}`);
  return v;
}

/** A ws(s) or http(s) URL; echoed without userinfo and query (they may carry credentials). */
function endpoint(obj: Obj, path: string): string | undefined {
  const v = str(obj, 'baseUrl', path);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(`${path}.baseUrl`, 'expected a URL (wss://, ws://, https:// or http://)');
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) throw bad(`${path}.baseUrl`, `expected a ws(s):// or http(s):// URL, got a ${u.protocol.replace(':', '')}: URL`);
  return v.replace(/\/+$/, '');
}

function parseOne(v: unknown, path: string, counts: Map<string, number>, names: Set<string>): TranscriptionConfig {
  if (!isObject(v)) throw bad(path, `expected an object with a provider (${STT_PROVIDER_NAMES.join(', ')})`);
  const provider = v.provider;
  if (!(STT_PROVIDER_NAMES as readonly unknown[]).includes(provider)) {
    throw bad(`${path}.provider`, `expected one of ${STT_PROVIDER_NAMES.join(', ')}${typeof provider === 'string' ? `, got "${provider}"` : provider === undefined ? ' (missing)' : ''}`);
  }
  const p = provider as SttProviderName;
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) throw bad(`${path}.${k}`, `unknown key (expected one of ${KEYS.join(', ')})`);
  const n = (counts.get(p) ?? 0) + 1;
  counts.set(p, n);
  const name = str(v, 'name', path) ?? (n === 1 ? p : `${p}${n}`);
  // The name becomes part of file names and URLs (`transcript.<name>.vtt`, `?source=<name>`).
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(name)) throw bad(`${path}.name`, 'expected letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)');
  if (name.toLowerCase() === 'zoom') throw bad(`${path}.name`, '"zoom" is the name of Zoom\'s own transcript track; choose another');
  if (names.has(name)) throw bad(`${path}.name`, `"${name}" is already the name of another transcription entry`);
  names.add(name);
  const apiKey = str(v, 'apiKey', path);
  // OpenAI itself needs a key; an OpenAI-compatible server elsewhere (local Whisper) may not.
  if (apiKey === undefined && p === 'openai' && v.baseUrl === undefined) throw bad(`${path}.apiKey`, 'missing; OpenAI needs an API key (e.g. "${OPENAI_API_KEY}"), or set baseUrl to a server that needs none');
  if (apiKey === undefined && KEY_REQUIRED.includes(p)) throw bad(`${path}.apiKey`, `missing; ${p} needs an API key (e.g. "\${${p === 'azure-speech' ? 'AZURE_SPEECH_KEY' : p.toUpperCase() + '_API_KEY'}}")`);
  // The cloud SDKs need a region to find their endpoint (a baseUrl names it instead).
  if ((p === 'aws-transcribe' || p === 'azure-speech') && v.region === undefined && v.baseUrl === undefined) throw bad(`${path}.region`, `missing; ${p} needs a region (e.g. "${p === 'aws-transcribe' ? 'us-east-1' : 'westeurope'}") or a baseUrl`);
  const apiSecret = str(v, 'apiSecret', path);
  // Zoom Scribe signs a JWT with the Build key and secret, unless options.accessToken is a ready token.
  if (p === 'zoom-scribe' && (apiKey === undefined || apiSecret === undefined) && !(isObject(v.options) && typeof v.options.accessToken === 'string')) {
    throw bad(`${path}.${apiKey === undefined ? 'apiKey' : 'apiSecret'}`, 'missing; zoom-scribe needs a Zoom Build apiKey and apiSecret (or options.accessToken)');
  }
  const audio = v.audio ?? 'per-speaker';
  if (audio !== 'per-speaker' && audio !== 'mixed') throw bad(`${path}.audio`, `expected "per-speaker" or "mixed"${typeof audio === 'string' ? `, got "${audio}"` : ''}`);
  const interim = v.interimResults ?? true;
  if (typeof interim !== 'boolean') throw bad(`${path}.interimResults`, 'expected true or false');
  if (v.options !== undefined && !isObject(v.options)) throw bad(`${path}.options`, 'expected an object');
  const accessKeyId = str(v, 'accessKeyId', path);
  const secretAccessKey = str(v, 'secretAccessKey', path);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw bad(`${path}.${accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'}`, 'missing; accessKeyId and secretAccessKey go together');
  const opt = <K extends string, T>(k: K, val: T | undefined) => (val === undefined ? {} : ({ [k]: val } as Record<K, T>));
  return {
    name,
    provider: p,
    ...opt('apiKey', apiKey),
    ...opt('baseUrl', endpoint(v, path)),
    ...opt('model', str(v, 'model', path)),
    audio,
    ...opt('language', str(v, 'language', path)),
    ...(v.match !== undefined ? { match: parseStreamMatch(v.match, `${path}.match`).match } : {}),
    bufferSeconds: num(v, 'bufferSeconds', path, 30, 1, 600),
    chunkSeconds: num(v, 'chunkSeconds', path, 5, 1, 60),
    interimResults: interim,
    ...opt('region', str(v, 'region', path)),
    ...opt('accessKeyId', accessKeyId),
    ...opt('secretAccessKey', secretAccessKey),
    ...opt('sessionToken', str(v, 'sessionToken', path)),
    ...opt('apiSecret', apiSecret),
    ...(v.options !== undefined ? { options: v.options as Record<string, unknown> } : {}),
  };
}

/** Validates the `transcription` value of a config file (already interpolated). */
export function parseTranscription(v: unknown, path = 'transcription'): TranscriptionConfig[] {
  if (!Array.isArray(v)) throw bad(path, 'expected a list of transcription entries');
  const counts = new Map<string, number>();
  const names = new Set<string>();
  return v.map((e, i) => parseOne(e, `${path}[${i}]`, counts, names));
}

/** Whether an entry applies to a stream (its `match`). */
export function transcriptionMatches(c: TranscriptionConfig, stream: { product: string; meetingUuid: string }): boolean {
  if (c.match?.products && !(c.match.products as string[]).includes(stream.product)) return false;
  if (c.match?.meetingIds && !c.match.meetingIds.includes(stream.meetingUuid)) return false;
  return true;
}
