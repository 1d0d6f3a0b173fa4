export { attachPipeline, type PipelineHandle } from './pipeline.js';
export type * from './types.js';
