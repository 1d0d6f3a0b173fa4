import { SampleLikeClient } from '../helpers/conformance/sample-client.js';
import { CREDS, TIME_SCALE, conformanceSuite } from '../helpers/conformance/matrix.js';

// A client that behaves like Zoom's reconnection sample: it waits for Zoom's signals.
conformanceSuite('the reconnection sample', () => new SampleLikeClient(CREDS, TIME_SCALE));
