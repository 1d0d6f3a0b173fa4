import { connect as netConnect } from 'node:net';

/** Environment of the gateway and worker processes of a throw-away cluster (tests and bench/cluster.ts). */
export interface ThrowAwayCluster {
  /** Cluster prefix, also the PostgreSQL schema. */
  run: string;
  natsUrl: string;
  pgUrl: string;
  dataDir: string;
  creds: { clientId: string; clientSecret: string; secretToken: string };
}

export function clusterEnv(c: ThrowAwayCluster, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ZM_RTMS_CLIENT: c.creds.clientId,
    ZM_RTMS_SECRET: c.creds.clientSecret,
    ZOOM_SECRET_TOKEN: c.creds.secretToken,
    NATS_URL: c.natsUrl,
    OPENRTMS_CLUSTER: c.run,
    // Each run gets its own schema, selected for every connection of the processes.
    DATABASE_URL: `${c.pgUrl}?options=${encodeURIComponent(`-c search_path=${c.run}`)}`,
    OPENRTMS_DATA_DIR: c.dataDir,
    OPENRTMS_MEDIA: 'audio,transcript,chat',
    ...extra,
  };
}

/** Whether something accepts TCP connections at the URL's host and port (within a second). */
export function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = netConnect({ host: u.hostname, port: Number(u.port) }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}
