import assert from 'node:assert/strict';
import { GatewayClient } from '../helpers/conformance/gateway-client.js';
import { CREDS, conformanceSuite } from '../helpers/conformance/matrix.js';
import { PRODUCTS } from '../../src/protocol/index.js';

// RtmsClient behind the real webhook handler and registry, with short tolerances and backoff (a
// tolerance under a second lets five 17 MiB malformed frames at once look like a dead socket).
conformanceSuite(
  'RtmsClient',
  () => new GatewayClient(CREDS, { reconnect: { initialDelayMs: 50, maxDelayMs: 400, jitter: 0.2, maxAttempts: 40 }, keepAliveToleranceMs: { signaling: 2000, media: 2000 } }),
  ({ summary, client }, fault) => {
    const gateway = client as GatewayClient;
    if (fault.spec.startsWith('restart')) {
      assert.equal(gateway.outcomes.filter((o) => o === 'failover').length, PRODUCTS.length, 'each new start with new server_urls was read as a server failover');
    }
    if (fault.spec.startsWith('duplicate-webhook')) {
      assert.equal(summary.connections.signaling, PRODUCTS.length, "Zoom's retries (same payload) open no second connection");
      assert.equal(summary.connections.rejected_duplicate, 0);
    }
    if (fault.spec === 'out-of-order') assert.equal(summary.connections.signaling, PRODUCTS.length, 'a start retried after the stop is ignored');
    if (fault.spec.startsWith('drop-media')) {
      assert.equal(summary.connections.signaling, PRODUCTS.length, 'signaling stayed up: media only was re-opened');
    }
  },
);
