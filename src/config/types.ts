/** Shapes of the config file (`openrtms.config.json`) after interpolation and validation. */
import type { Product } from '../protocol/index.js';
import type { DestinationConfig } from '../delivery/types.js';
import type { TranscriptionConfig } from '../intelligence/stt/config.js';
import type { IntelligenceConfig } from '../intelligence/types.js';
import type { RetentionConfig } from './retention.js';

/** One Zoom app (Marketplace app, Video SDK app, Contact Center or Phone app) and its credentials. */
export interface AppConfig {
  /** Shown in logs, alerts and errors (never a credential). Default `app<N>`. */
  name: string;
  products: Product[];
  /** Client ID (Video SDK: the SDK key). */
  clientId: string;
  /** Client secret (Video SDK: the SDK secret). */
  clientSecret: string;
  /** Webhook secret token of this app. */
  secretToken: string;
}

/** Server-to-Server OAuth app used for Zoom's REST API (start/stop/pause/resume a stream). */
export interface ZoomApiConfig {
  accountId: string;
  clientId: string;
  clientSecret: string;
  /** Default https://api.zoom.us */
  baseUrl: string;
  /** Default https://zoom.us/oauth/token */
  oauthUrl: string;
}

export interface OpenRtmsConfig {
  apps: AppConfig[];
  zoomApi?: ZoomApiConfig;
  /** Where events, recordings and live media go (webhooks, object storage, RTMP). */
  destinations?: DestinationConfig[];
  /** Speech-to-text providers: each makes a second transcript track (`source` = its name). */
  transcription?: TranscriptionConfig[];
  /** The LLM that writes live notes and final summaries and answers MCP questions (nothing is sent without it). */
  intelligence?: IntelligenceConfig;
  /** How long streams are kept; the daily sweep of serve/worker deletes older ones. */
  retention?: RetentionConfig;
  /** The file it came from (absent when no file applies). */
  file?: string;
}
