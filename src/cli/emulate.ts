/** `openrtms emulate`: the Zoom side on this machine, for development, tests and benchmarks. */
import { PRODUCTS, type Product } from '../protocol/index.js';
import { Emulator } from '../emulator/emulator.js';
import { parseFault, type Fault } from '../emulator/faults.js';
import { loadScenario } from '../emulator/scenario.js';
import type { EmulatorSummary } from '../emulator/summary.js';
import { OpenRtmsError } from '../errors.js';
import { UsageError, durationFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';

export const spec: CommandSpec = {
  name: 'emulate',
  summary: 'the Zoom side: signed webhooks, signaling and media servers, scripted meetings, faults',
  usage: 'openrtms emulate --webhook-url URL [options]',
  flags: {
    'webhook-url': { type: 'string', help: 'where to POST the signed RTMS webhooks (required)', placeholder: 'URL' },
    host: { type: 'string', default: '127.0.0.1', help: 'address the signaling and media servers listen on' },
    port: { type: 'string', default: '9000', help: 'port of the signaling and media servers (0 = any free port)' },
    product: { type: 'string', default: 'meeting', help: `${PRODUCTS.join(', ')}; a comma list assigns them round-robin` },
    scenario: { type: 'string', default: 'demo', help: 'built-in "demo" or a JSON scenario file', placeholder: 'NAME|FILE' },
    meetings: { type: 'string', default: '1', help: 'concurrent streams', placeholder: 'N' },
    duration: { type: 'string', help: 'scenario length (default: the scenario\'s; demo 60 s)', placeholder: 'S' },
    fault: { type: 'string', multiple: true, help: 'inject a fault (repeatable), e.g. drop-media@10s, kick@20s, pause@30s:10s, duplicate-webhook:3', placeholder: 'SPEC' },
    seed: { type: 'string', default: '1', help: 'seed for ids and synthetic voices', placeholder: 'N' },
    fast: { type: 'boolean', help: 'send as fast as the client reads instead of in real time' },
    'on-demand': { type: 'boolean', help: 'no RTMS until a REST start call (openrtms control start --zoom-api URL); prints the ids' },
    json: { type: 'boolean', help: 'print one JSON summary object on stdout' },
    'client-id': { type: 'string', help: 'app client id (default: ZM_RTMS_CLIENT or ZOOM_CLIENT_ID)' },
    'client-secret': { type: 'string', help: 'app client secret (default: ZM_RTMS_SECRET or ZOOM_CLIENT_SECRET)' },
    'secret-token': { type: 'string', help: 'webhook secret token (default: ZOOM_SECRET_TOKEN)' },
    'keepalive-interval': { type: 'string', default: '10s', help: 'how often KEEP_ALIVE_REQ is sent on a socket where no data flows (3 unanswered end it)' },
    'signaling-window': { type: 'string', default: '60s', help: 'how long a stream waits for the app after its signaling connection dropped' },
    'media-window': { type: 'string', default: '30s', help: 'how long a stream waits for a dropped media connection to come back' },
    'wait-for-client': { type: 'string', default: '10s', help: 'how long a stream waits for its first client before its clock starts' },
  },
  examples: [
    'openrtms emulate --webhook-url http://127.0.0.1:8080/webhook',
    'openrtms emulate --webhook-url http://127.0.0.1:8080/webhook --meetings 4 --product meeting,webinar,session,contact_center --duration 30',
    'openrtms emulate --webhook-url http://127.0.0.1:8080/webhook --fault drop-media@10s --fault duplicate-webhook:3 --json',
    'openrtms emulate --webhook-url http://127.0.0.1:8080/webhook --scenario examples/scenarios/standup.json --fast',
    'openrtms emulate --webhook-url http://127.0.0.1:8080/webhook --on-demand   # then: openrtms control start --meeting UUID --zoom-api http://127.0.0.1:9000',
  ],
};

function credential(flag: unknown, envNames: string[], label: string): string {
  if (typeof flag === 'string' && flag) return flag;
  for (const n of envNames) if (process.env[n]) return process.env[n]!;
  throw new UsageError(`emulate: ${label} missing: set ${envNames.join(' or ')} or pass --${label.replace(/ /g, '-')}`);
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const webhookUrl = v['webhook-url'];
  if (typeof webhookUrl !== 'string' || !/^https?:\/\/./.test(webhookUrl)) {
    throw new UsageError('emulate: --webhook-url is required and must be an http(s) URL, e.g. http://127.0.0.1:8080/webhook');
  }
  const products = String(v.product).split(',').map((p) => p.trim());
  for (const p of products) if (!(PRODUCTS as readonly string[]).includes(p)) throw new UsageError(`--product: expected ${PRODUCTS.join(', ')} (or a comma list), got "${p}"`);
  const faults: Fault[] = [];
  for (const f of (v.fault as string[] | undefined) ?? []) {
    try {
      faults.push(parseFault(f));
    } catch (err) {
      throw new UsageError(`emulate: ${(err as Error).message}`);
    }
  }
  const durationS = v.duration === undefined ? undefined : durationFlag('duration', v.duration) / 1000;
  let scenario;
  try {
    scenario = loadScenario(String(v.scenario), durationS);
  } catch (err) {
    throw new UsageError(`--scenario: ${(err as Error).message}`);
  }
  const emulator = new Emulator({
    clientId: credential(v['client-id'], ['ZM_RTMS_CLIENT', 'ZOOM_CLIENT_ID'], 'client id'),
    clientSecret: credential(v['client-secret'], ['ZM_RTMS_SECRET', 'ZOOM_CLIENT_SECRET'], 'client secret'),
    secretToken: credential(v['secret-token'], ['ZOOM_SECRET_TOKEN'], 'secret token'),
    webhookUrl,
    host: String(v.host),
    port: intFlag('port', v.port, { max: 65535 }),
    product: products as Product[],
    scenario,
    meetings: intFlag('meetings', v.meetings, { min: 1, max: 100_000 }),
    seed: intFlag('seed', v.seed),
    fast: v.fast === true,
    faults,
    keepAliveIntervalMs: durationFlag('keepalive-interval', v['keepalive-interval']),
    reconnectWindowMs: { signaling: durationFlag('signaling-window', v['signaling-window']), media: durationFlag('media-window', v['media-window']) },
    waitForClientMs: durationFlag('wait-for-client', v['wait-for-client']),
    onDemand: v['on-demand'] === true,
  });
  try {
    await emulator.start();
  } catch (err) {
    throw new OpenRtmsError('CONFIG_INVALID', `cannot listen on ${String(v.host)}:${String(v.port)}: ${(err as Error).message}`);
  }
  const json = v.json === true;
  const log = (line: string) => process.stderr.write(line + '\n');
  if (!json || process.stderr.isTTY) {
    log(`emulator listening on ws://${String(v.host)}:${emulator.port}; ${emulator.streams.length} stream(s) of "${scenario.name}" (${scenario.duration_s} s${v.fast ? ', fast' : ''}) → ${webhookUrl}`);
  }
  if (v['on-demand'] === true) {
    // The ids to start with `openrtms control start --meeting ID --zoom-api URL` (stderr: stdout is for --json).
    log(`on-demand: Zoom REST API at ${emulator.httpUrl} (POST /oauth/token, PATCH …/rtms_app/status); waiting for a start call for:`);
    for (const s of emulator.streams) log(`  ${s.id.product === 'session' ? '--session' : (s.id.product as string) === 'phone' ? '--call' : '--meeting'} ${s.id.meetingUuid}   (${s.id.product})`);
  }
  emulator.on('fault', (f) => !json && log(`fault ${f.spec} fired at ${(f.atMs / 1000).toFixed(1)} s on ${f.rtmsStreamId}`));
  const started = Date.now();
  const progress = setInterval(() => {
    if (!process.stderr.isTTY) return;
    const s = emulator.summary();
    process.stderr.write(`\r${((Date.now() - started) / 1000).toFixed(0)} s  streams ${s.streams}  connections ${s.connections.signaling}  audio ${s.sent.audio} sent / ${s.missed.audio} missed  transcripts ${s.sent.transcript}   `);
  }, 500);
  progress.unref();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void emulator.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let summary: EmulatorSummary;
  try {
    summary = await emulator.run();
  } finally {
    clearInterval(progress);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await emulator.close();
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (json) process.stdout.write(JSON.stringify(summary) + '\n');
  else printSummary(summary);
  return summary.completed ? 0 : 1;
}

function printSummary(s: EmulatorSummary): void {
  const kinds = Object.keys(s.sent) as (keyof typeof s.sent)[];
  const lines = [
    `emulated ${s.streams} stream(s) in ${s.duration_s} s — ${s.completed ? 'completed' : 'interrupted'}`,
    `  sent    ${kinds.map((k) => `${k} ${s.sent[k]}`).join(', ')}`,
    `  missed  ${kinds.map((k) => `${k} ${s.missed[k]}`).join(', ')}`,
    `  webhooks ${s.webhooks.sent} sent, ${s.webhooks.retried} retried, ${s.webhooks.failed} failed`,
    `  connections: ${s.connections.signaling} signaling, ${s.connections.media} media, ${s.connections.kicked} kicked, ${s.connections.rejected_signature} bad signature, ${s.connections.rejected_finished} after stop`,
    `  keep-alive: ${s.keepalive.sent} sent, ${s.keepalive.answered} answered, ${s.keepalive.missed} missed`,
    ...s.faults.map((f) => `  fault ${f.spec} at ${f.at_ms} ms: client ${f.client_recovered ? 'recovered' : 'did not recover'}${f.expected_recovery ? '' : ' (not expected to)'}`),
  ];
  console.log(lines.join('\n'));
}
