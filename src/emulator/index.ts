/** The Zoom-side emulator. */
export { Emulator, type EmulatorOptions, type EmulatorEvents } from './emulator.js';
export { parseFault, RECOVERABLE, type Fault } from './faults.js';
export { compileScenario, demoScenario, loadScenario, mixedPcm, speakerPcm, validateScenario, type Plan, type Scenario } from './scenario.js';
export { EmulatedStream, KICK_CLOSE_CODE, type SentRecord } from './stream.js';
export { renderExpected, expectedMixedFrame, expectedSpeakerFrames, toFrameFormat, type ExpectedContent, type ExpectedTranscript, type ExpectedChat, type FrameFormat } from './expected.js';
export type { HandshakeInfo } from './server.js';
export type { EmulatorSummary, KindCounts, StreamReport, FaultReport } from './summary.js';
export { validateEndpoint, postSigned } from './webhook-sender.js';
