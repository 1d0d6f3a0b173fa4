export { LiveBus, LiveSubscription, toJson, type LagPolicy, type LiveBusStats, type SubscribeOptions } from './bus.js';
export { LiveSink, type LiveSinkOptions } from './sink.js';
export { LevelMeter, rmsDbfs, toDbfs, FLOOR_DBFS } from './levels.js';
export { ThumbnailStore, findFfmpeg, h264ToJpeg, h264Info, imageType, type Thumbnail, type ThumbnailKind } from './thumbnails.js';
export type * from './types.js';
