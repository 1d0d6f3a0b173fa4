/**
 * The live feed across the cluster. A worker republishes every message of its local LiveBus on
 * `<prefix>.live.<stream key>.<type>` (core NATS: live data is best effort, like the bus itself);
 * a gateway subscribes to all of them and feeds its own LiveBus, so its dashboard, WebSocket and
 * SSE endpoints show every meeting of the cluster. Other services can subscribe the same way.
 */
import { toJson, type LiveBus } from '../live/bus.js';
import type { LiveMessage } from '../live/types.js';
import type { Cluster } from './connection.js';
import { streamKey } from './names.js';

/** Worker side: local bus → NATS. Returns a function that stops relaying. */
export function publishLiveFeed(bus: LiveBus, cluster: Cluster): () => void {
  // Subject prefix per stream, encoded once rather than per message (levels come ~50 a second).
  const prefixes = new Map<string, string>();
  const subject = (m: LiveMessage) => {
    let prefix = prefixes.get(m.streamId);
    if (prefix === undefined) prefixes.set(m.streamId, (prefix = cluster.names.liveSubject(streamKey(m.streamId), '')));
    if (m.type === 'stream' && m.action === 'ended') prefixes.delete(m.streamId);
    return prefix + m.type;
  };
  const sub = bus.subscribe({
    maxQueue: 8192,
    deliver: (messages) => {
      if (cluster.nc.isClosed()) return;
      for (const m of messages) {
        if (m.type === 'lagged' || m.type === 'snapshot') continue; // local to one subscriber
        // While NATS is reconnecting the client buffers (bounded); beyond that, live data is dropped.
        try {
          cluster.nc.publish(subject(m), toJson(m));
        } catch {
          // connection closing: nothing to do for live data
        }
      }
    },
  });
  return () => sub.close();
}

/** Gateway side: NATS → local bus. Returns a function that stops relaying. */
export function subscribeLiveFeed(bus: LiveBus, cluster: Cluster): () => void {
  const sub = cluster.nc.subscribe(cluster.names.liveWildcard, {
    callback: (err, msg) => {
      if (err) return;
      try {
        bus.publish(JSON.parse(msg.string()) as LiveMessage);
      } catch {
        // not one of ours
      }
    },
  });
  return () => sub.unsubscribe();
}
