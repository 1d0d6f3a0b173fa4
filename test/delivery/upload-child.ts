/**
 * A process that uploads one recording to S3 and is SIGKILLed by the test half-way (see s3.test.ts).
 * Arguments come as one JSON in OPENRTMS_UPLOAD_CHILD: the destination config, the data dir and the recording.
 */
import { createS3Destination } from '../../src/delivery/s3.js';

const { config, dataDir, recording } = JSON.parse(process.env.OPENRTMS_UPLOAD_CHILD ?? '{}');
const d = createS3Destination(config, { dataDir });
await d.start!();
process.stdout.write('started\n');
await d.recordingFinished!(recording);
process.stdout.write('finished\n'); // never reached when the test kills us in time
