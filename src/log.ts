/**
 * Logging: pino, configured from ZM_RTMS_LOG_LEVEL (error|warn|info|debug|trace, default info),
 * ZM_RTMS_LOG_FORMAT (progressive = human lines, json = one JSON object per line; default
 * progressive on a terminal, json otherwise) and ZM_RTMS_LOG_ENABLED (false silences it).
 * Secrets are redacted by key wherever they appear (any key named like a secret, at any depth) and
 * by value (every secret of the config file and the environment, see src/util/secrets.ts), so none
 * can reach a log, not even quoted inside an error message.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from './errors.js';
import { redactDeep, redactText } from './util/secrets.js';

/** Keys whose values are never logged, at any depth we know of. */
export const REDACTED_KEYS = [
  'clientSecret',
  'client_secret',
  'secret',
  'secretToken',
  'secret_token',
  'apiToken',
  'signature',
  'authorization',
  'password',
  'ZM_RTMS_SECRET',
  'ZOOM_CLIENT_SECRET',
  'ZOOM_SECRET_TOKEN',
  'OPENRTMS_API_TOKEN',
];
const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["x-zm-signature"]`, `*.headers.authorization`]);

const LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;

export interface LogOptions {
  level?: string;
  format?: string;
  enabled?: string;
  /** Where lines go (default stderr). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(o: LogOptions = {}): Logger {
  const env = process.env;
  const level = o.level ?? env.ZM_RTMS_LOG_LEVEL ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) throw new ConfigError('CONFIG_INVALID', `ZM_RTMS_LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${level}"`);
  const destination = o.destination ?? process.stderr;
  const format = o.format ?? env.ZM_RTMS_LOG_FORMAT ?? ((destination as { isTTY?: boolean }).isTTY ? 'progressive' : 'json');
  if (format !== 'progressive' && format !== 'json') throw new ConfigError('CONFIG_INVALID', `ZM_RTMS_LOG_FORMAT must be progressive or json, got "${format}"`);
  const enabled = (o.enabled ?? env.ZM_RTMS_LOG_ENABLED ?? 'true').toLowerCase() !== 'false';
  const options = {
    level,
    enabled,
    redact: { paths: [...new Set(paths)], censor: '[redacted]' },
    formatters: { log: (o: Record<string, unknown>) => redactDeep(o) as Record<string, unknown> },
    hooks: { streamWrite: redactText },
  };
  if (format === 'json') return pino(options, destination);
  return pino(options, pretty({ destination, colorize: (destination as { isTTY?: boolean }).isTTY ?? false, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
}
