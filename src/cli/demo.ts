/**
 * `openrtms demo` (= `npm start`): the emulator and the server on 127.0.0.1 with throw-away
 * credentials, a live progress line, and the dashboard kept up after the meetings end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Emulator } from '../emulator/emulator.js';
import { demoScenario } from '../emulator/scenario.js';
import { openStore } from '../store/open.js';
import { repairRecordings } from '../recorder/repair.js';
import { createRuntime } from '../server/runtime.js';
import { configFlag, configFromFile } from './config.js';
import { durationFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';

export const spec: CommandSpec = {
  name: 'demo',
  summary: 'emulator + server + dashboard on 127.0.0.1, no credentials needed',
  usage: 'openrtms demo [--port 8080] [--meetings 1] [--duration 120] [--data-dir ./data] [--config FILE]',
  flags: {
    port: { type: 'string', default: '8080', help: 'port of the server and dashboard (0 = any free port)' },
    meetings: { type: 'string', default: '1', help: 'concurrent emulated meetings' },
    duration: { type: 'string', default: '120', help: 'how long the meetings last (seconds, or 90s, 2m)' },
    'data-dir': { type: 'string', help: 'where the database and recordings go (default: OPENRTMS_DATA_DIR or ./data)' },
    config: { ...configFlag, help: `${configFlag.help}; checked, but the demo's apps are its own throw-away ones` },
  },
  examples: ['npm start', 'openrtms demo --meetings 3 --duration 60', 'openrtms demo --port 0 --data-dir /tmp/rtms-demo'],
};

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const port = intFlag('port', v.port, { max: 65535 });
  const meetings = intFlag('meetings', v.meetings, { min: 1, max: 1000 });
  const durationS = durationFlag('duration', v.duration) / 1000;
  // Like `serve`: the flag, else OPENRTMS_DATA_DIR (also from .env), else ./data.
  const dataDir = resolve(String(v['data-dir'] ?? (process.env.OPENRTMS_DATA_DIR || './data')));
  // The config file is checked so that a mistake shows before production; the demo itself needs no
  // credentials, but it delivers to the file's destinations, so they can be tried against the demo.
  const config = configFromFile('demo', v.config);
  mkdirSync(dataDir, { recursive: true });

  // Throw-away credentials shared by both sides: nothing to configure, nothing to leak.
  const creds = { clientId: `demo-${randomBytes(6).toString('hex')}`, clientSecret: randomBytes(24).toString('hex'), secretToken: randomBytes(24).toString('hex') };
  const quiet = { info() {}, warn() {} };
  const store = await openStore({ dataDir, databaseUrl: null });
  const repaired = await repairRecordings(dataDir);
  if (repaired.repairedWavs.length || repaired.incomplete.length) {
    console.error(`repaired ${repaired.repairedWavs.length} WAV header(s); ${repaired.incomplete.length} recording(s) marked incomplete after an unclean stop`);
  }
  const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, logger: quiet, destinations: config.destinations, transcription: config.transcription, intelligence: config.intelligence });
  let url: string;
  try {
    ({ url } = await runtime.app.listen(port, '127.0.0.1'));
  } catch (err) {
    await runtime.shutdown();
    console.error(`openrtms demo: cannot listen on 127.0.0.1:${port} (${(err as Error).message}); try --port 0`);
    return 1;
  }
  const emulator = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, scenario: demoScenario(durationS), meetings, product: ['meeting', 'webinar', 'session', 'contact_center'].slice(0, Math.min(meetings, 4)) as never });
  await emulator.start();
  console.log(`openrtms demo — ${meetings} emulated meeting(s) of ${durationS} s`);
  console.log(`Dashboard: ${url}/`);
  console.log(`Data:      ${dataDir}   (Ctrl-C to stop)`);
  if (config.intelligence) console.log(`Notes:     ${config.intelligence.provider} ${config.intelligence.model}${config.intelligence.notesEveryMinutes ? `, every ${config.intelligence.notesEveryMinutes} min` : ''}; summary when each meeting ends`);

  const tty = process.stdout.isTTY;
  const t0 = Date.now();
  let lastFrames = 0;
  const progress = setInterval(() => {
    const streams = runtime.registry.list();
    const frames = streams.reduce((n, s) => n + s.frames.audio + s.frames.video + s.frames.deskshare + s.frames.transcript + s.frames.chat, 0);
    const live = streams.filter((s) => s.state === 'ready').length;
    const seconds = streams.reduce((n, s) => n + s.frames.audio * 0.02, 0);
    const line = `streams ${live} live / ${streams.length}  ·  participants ${streams.reduce((n, s) => n + s.participants, 0)}  ·  ${seconds.toFixed(0)} s of audio recorded  ·  ${frames - lastFrames} frames/s  ·  ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    lastFrames = frames;
    if (tty) process.stdout.write(`\r${line}   `);
  }, 1000);
  progress.unref();

  let stopping = false;
  const finished = new Promise<void>((resolveStop) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      resolveStop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void emulator.run().then((summary) => {
      if (stopping) return;
      if (tty) process.stdout.write('\n');
      console.log(`Meetings ended: ${summary.sent.audio} audio frames, ${summary.sent.transcript} transcript lines, ${summary.sent.chat} chat messages delivered; ${summary.missed.audio} audio frames missed.`);
      console.log(`The dashboard stays up at ${url}/ — Ctrl-C to stop.`);
    });
  });
  await finished;
  clearInterval(progress);
  if (tty) process.stdout.write('\n');
  console.log('stopping: leaving streams and flushing recordings…');
  await emulator.close();
  await runtime.shutdown();
  console.log('stopped.');
  return 0;
}
