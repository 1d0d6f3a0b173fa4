/**
 * Serve runtime + Emulator + a webhook destination on a real local receiver: every event of an
 * emulated meeting arrives, in per-stream order, and matches what was recorded on disk.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver } from './receiver.js';
import { checkMeeting, cleanups, meeting, serveWith } from './meeting.js';

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('delivery end to end: an emulated meeting to a signed webhook', () => {
  it('every event arrives once per id, in order, matching the recording', async () => {
    const rx = new Receiver('e2e-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const { runtime, url, dataDir } = await serveWith(rx);
    const { summary, id } = await meeting(url, 6);
    assert.equal(summary.missed.audio, 0);
    const byType = await checkMeeting(rx, runtime, dataDir, id);
    assert.equal(byType['stream.started'], 1);
    assert.equal(byType['stream.stopped'], 1);
    assert.equal(rx.accepted.length, rx.ids().size, 'a healthy receiver gets each event exactly once');
    const res = await fetch(`${url}/api/delivery`);
    const body = (await res.json()) as { destinations: { name: string; type: string; target: string }[] };
    assert.deepEqual(body.destinations.map((d) => [d.name, d.type, d.target]), [['crm', 'webhook', rx.url]]);
    assert.doesNotMatch(JSON.stringify(body), /e2e-hook-secret/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, new RegExp(`openrtms_delivery_delivered_total\\{destination="crm"\\} ${runtime.delivery.list()[0].stats.delivered}`));
    assert.match(metrics, /openrtms_delivery_queued\{destination="crm"\} 0/);
  });

  it('a receiver that is down for 3 s, then answers 500s, then slowly: nothing lost, ids dedupe to the exact set, ingestion unaffected', async () => {
    const rx = new Receiver('e2e-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const { runtime, url, dataDir } = await serveWith(rx);
    rx.behaviour = 'down';
    const run = meeting(url, 6);
    setTimeout(() => (rx.behaviour = 'fail'), 3000);
    setTimeout(() => (rx.behaviour = 'hang'), 4000); // past timeoutMs: aborted, retried
    setTimeout(() => {
      rx.behaviour = 'slow';
      rx.slowMs = 50;
    }, 5000);
    const { summary, id } = await run;
    assert.equal(summary.missed.audio, 0, 'ingestion did not miss a frame');
    assert.equal(summary.missed.transcript, 0);
    const status = runtime.registry.list().find((s) => s.rtmsStreamId === id)!;
    assert.equal(status.frames.audio, summary.sent.audio, 'every audio frame reached the pipeline');
    await checkMeeting(rx, runtime, dataDir, id);
    assert.ok(runtime.delivery.list()[0].stats.retried > 0, 'there were retries');
    const dup = rx.accepted.length - rx.ids().size;
    assert.ok(dup <= 3, `duplicates beyond at-least-once: ${dup}`);
  });
});
