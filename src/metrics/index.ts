export { OpenRtmsMetrics, MEDIA_KINDS, type MetricsOptions, type StreamSource, type MetricKind } from './metrics.js';
export { MetricsSink } from './sink.js';
export { metricsRoutes, type MetricsRoutesOptions } from './plugin.js';
