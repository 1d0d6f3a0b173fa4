/**
 * Stream control as the server and the CLI offer it: validates a `{product, id, action}` request
 * and calls Zoom's REST API with the client id of the app that serves that product.
 */
import { ConfigError } from '../errors.js';
import { appFor, type AppConfig, type ZoomApiConfig } from '../config/index.js';
import { CONTROL_ACTIONS, CONTROL_PRODUCTS, ZoomApi, type ControlAction, type ControlProduct } from './zoom-api.js';

export interface ControlRequest {
  product: ControlProduct;
  id: string;
  action: ControlAction;
}

/** What `POST /api/control` needs. */
export interface StreamControl {
  control(req: ControlRequest): Promise<void>;
}

/** A one-line reason why `body` is not a control request, or the request. */
export function parseControlRequest(body: unknown): ControlRequest | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'expected a JSON object {"product","id","action"}';
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['product', 'id', 'action'].includes(k)) return `unknown field "${k}" (expected product, id, action)`;
  if (typeof b.product !== 'string' || !(CONTROL_PRODUCTS as readonly string[]).includes(b.product)) return `product: expected one of ${CONTROL_PRODUCTS.join(', ')}`;
  if (typeof b.id !== 'string' || b.id.trim() === '' || b.id.length > 256) return 'id: expected the meeting id or UUID, session id or call id (1-256 characters)';
  if (typeof b.action !== 'string' || !(CONTROL_ACTIONS as readonly string[]).includes(b.action)) return `action: expected one of ${CONTROL_ACTIONS.join(', ')}`;
  return { product: b.product as ControlProduct, id: b.id, action: b.action as ControlAction };
}

export class ZoomStreamControl implements StreamControl {
  readonly api: ZoomApi;

  constructor(
    zoomApi: ZoomApiConfig,
    private readonly apps: readonly AppConfig[],
  ) {
    this.api = new ZoomApi(zoomApi);
  }

  async control(req: ControlRequest): Promise<void> {
    const app = appFor(this.apps, req.product);
    if (!app) throw new ConfigError('CONFIG_MISSING', `no app is configured for "${req.product}": Zoom needs the client id of the RTMS app to ${req.action}`);
    await this.api.controlStream(req.product, req.id, req.action, app.clientId);
  }
}
