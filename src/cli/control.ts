/**
 * `openrtms control start|stop|pause|resume --meeting ID | --session ID | --call ID`: starts, stops,
 * pauses or resumes a stream through Zoom's REST API (config `zoomApi`, client id of the app serving
 * the product). `--zoom-api URL` points the REST and OAuth URLs at an emulator (`URL/oauth/token`).
 */
import { loadDotEnv } from './dotenv.js';
import { UsageError, choiceFlag, helpText, parseCommand, type CommandSpec } from './args.js';
import { configFlag, configFromFile } from './config.js';
import { appFor, resolveApps, type ZoomApiConfig } from '../config/index.js';
import { PRODUCTS } from '../protocol/index.js';
import { CONTROL_ACTIONS, ZoomApi, ZoomApiError, type ControlProduct } from '../control/zoom-api.js';
import { guidanceForKind, oneLine } from '../alerts/guidance.js';

export const spec: CommandSpec = {
  name: 'control',
  summary: "start, stop, pause or resume a stream through Zoom's REST API",
  usage: 'openrtms control start|stop|pause|resume --meeting ID | --webinar ID | --session ID | --call ID [--zoom-api URL] [--config FILE]',
  flags: {
    meeting: { type: 'string', help: 'meeting id or UUID', placeholder: 'ID' },
    webinar: { type: 'string', help: 'webinar id or UUID', placeholder: 'ID' },
    session: { type: 'string', help: 'Video SDK session id', placeholder: 'ID' },
    call: { type: 'string', help: 'Zoom Phone call id', placeholder: 'ID' },
    'zoom-api': { type: 'string', help: 'base URL of the REST API and its OAuth (URL/oauth/token), e.g. an emulator', placeholder: 'URL' },
    config: configFlag,
  },
  positionals: { name: 'action (start, stop, pause or resume)', required: true },
  examples: [
    'openrtms control start --meeting 4a1b2c3d… --config openrtms.config.json',
    'openrtms control pause --session SESSION_ID',
    'openrtms control start --meeting UUID --zoom-api http://127.0.0.1:9000   # against `openrtms emulate --on-demand`',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`control: unexpected argument "${positionals[1]}" (see: openrtms control --help)`);
  const action = choiceFlag('control action', positionals[0], CONTROL_ACTIONS);
  const targets = (['meeting', 'webinar', 'session', 'call'] as const).filter((k) => v[k] !== undefined);
  if (targets.length !== 1) throw new UsageError('control: give exactly one of --meeting ID, --webinar ID, --session ID or --call ID');
  const flag = targets[0];
  const id = String(v[flag]);
  if (!id.trim()) throw new UsageError(`--${flag}: expected a non-empty id`);
  const product: ControlProduct = flag === 'call' ? 'phone' : flag;
  const zoomApiUrl = v['zoom-api'];
  if (zoomApiUrl !== undefined && (typeof zoomApiUrl !== 'string' || !/^https?:\/\/[^/\s]+/.test(zoomApiUrl))) throw new UsageError(`--zoom-api: expected an http(s) URL, got "${String(zoomApiUrl)}"`);
  loadDotEnv();
  const config = configFromFile('control', v.config);
  const apps = resolveApps(config);
  const app = appFor(apps, product);
  if (!app) throw new UsageError(`control: no app serves "${product}": add it to an app's products in the config file, or set ZM_RTMS_CLIENT, ZM_RTMS_SECRET and ZOOM_SECRET_TOKEN (products ${PRODUCTS.join(', ')})`);
  let zoomApi: ZoomApiConfig | undefined = config.zoomApi;
  if (zoomApiUrl) {
    const base = zoomApiUrl.replace(/\/+$/, '');
    // Against an emulator without a zoomApi section: the emulator accepts the app's own credentials.
    zoomApi = { ...(zoomApi ?? { accountId: 'emulator', clientId: app.clientId, clientSecret: app.clientSecret }), baseUrl: base, oauthUrl: `${base}/oauth/token` };
  }
  if (!zoomApi) throw new UsageError('control: no zoomApi section in the config file (accountId, clientId, clientSecret of a Server-to-Server OAuth app); or pass --zoom-api URL for an emulator');
  try {
    await new ZoomApi(zoomApi).controlStream(product, id, action, app.clientId);
  } catch (err) {
    if (err instanceof ZoomApiError) {
      const hint = err.code === 'ZOOM_API_AUTH_FAILED' ? ` — ${oneLine(guidanceForKind('ZOOM_API_UNAUTHORIZED'))}` : err.status === 404 ? ` — ${oneLine(guidanceForKind('ZOOM_API_NOT_FOUND'))}` : '';
      console.error(`openrtms control: ${err.message}${hint} [${err.code}]`);
      return 1;
    }
    throw err;
  }
  console.log(`${action}: ok (${product} ${id}, app "${app.name}")`);
  return 0;
}
