export { Recorder, finalizeRecording, type RecorderStats } from './recorder.js';
export { safeName, fromSafeName } from './paths.js';
export { toSrt, toVtt, type CaptionSegment } from './captions.js';
export { repairRecordings, type RepairReport } from './repair.js';
