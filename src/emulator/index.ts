/** The Zoom-side emulator. */
export { Emulator, type EmulatorOptions, type EmulatorEvents } from './emulator.js';
export { parseFault, RECOVERABLE, type Fault } from './faults.js';
export { compileScenario, demoScenario, loadScenario, mixedPcm, speakerPcm, validateScenario, type Plan, type Scenario } from './scenario.js';
export { EmulatedStream, KICK_CLOSE_CODE } from './stream.js';
export type { EmulatorSummary, KindCounts, StreamReport, FaultReport } from './summary.js';
export { validateEndpoint, postSigned } from './webhook-sender.js';
