/**
 * `openrtms` entry point: dispatches to one module per command. Usage errors print one line and
 * exit 2; other failures print the error's code and message (no stack trace unless debugging).
 */
import { readFileSync } from 'node:fs';
import { OpenRtmsError } from '../errors.js';
import { UsageError } from './args.js';
import { redactText } from '../util/secrets.js';

/** A command module: runs with its own argv and resolves to the process exit code. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

/** Every command; each lives in `./<name>.ts` and exports `run(argv)`. */
const COMMANDS: Record<string, string> = {
  demo: 'emulator + server + dashboard on 127.0.0.1, no credentials needed',
  serve: 'the production server: webhook, API, live feed, dashboard, metrics',
  emulate: 'the Zoom side: signed webhooks, signaling and media servers, faults',
  worker: 'cluster worker (NATS_URL, DATABASE_URL)',
  control: "start, stop, pause or resume a stream through Zoom's REST API",
  bench: 'drive N emulated streams through the real pipeline and measure',
  search: 'full-text search over stored transcripts and chat',
  inspect: 'summary of a recording directory',
  delete: 'delete a stream everywhere (store, search, recordings, delivery, uploaded objects)',
};

async function load(name: string): Promise<Command> {
  // A computed specifier keeps start-up lean: only the command that runs is loaded.
  return (await import(`./${name}.js`)) as Command;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'openrtms — Zoom Realtime Media Streams toolkit, server and emulator',
    '',
    'Usage: openrtms <command> [options]      (openrtms <command> --help for details)',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]}`),
    '',
    'Options: --version, --help',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    console.error(`openrtms: unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    const command = await load(name);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(redactText(`openrtms ${err.message}`));
      return 2;
    }
    if (err instanceof OpenRtmsError) {
      console.error(redactText(`openrtms ${name}: ${err.message} [${err.code}]`));
      if (process.env.ZM_RTMS_LOG_LEVEL === 'debug' || process.env.ZM_RTMS_LOG_LEVEL === 'trace') console.error(redactText(String(err.stack)));
      return 1;
    }
    console.error(redactText(`openrtms ${name}: ${(err as Error)?.message ?? String(err)}`));
    if (process.env.ZM_RTMS_LOG_LEVEL === 'debug' || process.env.ZM_RTMS_LOG_LEVEL === 'trace') console.error(redactText(String((err as Error)?.stack)));
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
