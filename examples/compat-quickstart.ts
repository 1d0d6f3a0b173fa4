/**
 * Zoom's @zoom/rtms quick start, ported to openrtms by changing one import.
 *
 *   - import rtms from "@zoom/rtms";
 *   + import rtms from "openrtms/compat";
 *
 * (Inside this repository the example imports the source directly.) Run it with ZM_RTMS_CLIENT,
 * ZM_RTMS_SECRET (and ZOOM_SECRET_TOKEN to verify webhooks); `--once` exits after the first stream.
 */
import rtms from '../src/compat/index.js';

const RTMS_EVENTS = ['meeting.rtms_started', 'webinar.rtms_started', 'session.rtms_started'];
const once = process.argv.includes('--once');

const server = rtms.onWebhookEvent(({ event, payload }) => {
  if (!RTMS_EVENTS.includes(event)) return;
  const client = new rtms.Client();
  let audioBytes = 0;
  client.onJoinConfirm((reason) => console.log(`joined (reason ${reason})`));
  client.onAudioData((data, size, timestamp, metadata) => {
    audioBytes += size;
  });
  client.onTranscriptData((data, size, timestamp, metadata) => {
    console.log(`${metadata.userName}: ${data.toString('utf8')}`);
  });
  client.onLeave((reason) => {
    console.log(`left (reason ${reason}) after ${audioBytes} bytes of audio`);
    if (once) server.close(() => process.exit(0));
  });
  client.join(payload);
});
server.on('listening', () => console.log(`listening for webhooks on port ${process.env.ZM_RTMS_PORT ?? 8080}`));
