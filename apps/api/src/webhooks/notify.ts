// Outbound notifications: on every deployment state change, apps with a notification URL and secret
// get a JSON POST signed like GitHub's (X-Dream-Signature-256: sha256=<hmac of the body>). Delivery
// is best effort (3 tries, 5 s each) and never delays or fails the deployment.
import crypto from 'node:crypto';
import type pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../db/index.js';
import { followTransitions } from '../db/transitions.js';
import type { TransitionEvent } from '../db/deployments.js';
import { hmacHex } from './verify.js';

export interface NotifyPayload {
  event: 'deployment.state';
  app: string;
  deployment: { id: string; state: string; reason: string; version: number | null };
  at: string;
}

/** The body and headers of one notification. Pure. */
export function signedNotification(e: TransitionEvent, secret: string, deliveryId: string) {
  const payload: NotifyPayload = { event: 'deployment.state', app: e.app, deployment: { id: e.id, state: e.state, reason: e.reason, version: e.version }, at: e.at };
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'DreamNet-Hookshot',
      'x-dream-event': payload.event,
      'x-dream-delivery': deliveryId,
      'x-dream-signature-256': `sha256=${hmacHex(secret, Buffer.from(body))}`,
    },
  };
}

export function installNotifier(app: FastifyInstance, store: Store, log: pino.Logger, retryDelayMs = 1000): void {
  followTransitions(app, store, (e) => {
    const h = store.hooks.get(e.app);
    if (!h.notifyUrl || !h.notifySecret) return;
    const msg = signedNotification(e, h.notifySecret, crypto.randomUUID());
    void deliver(h.notifyUrl, msg, log, retryDelayMs);
  });
}

async function deliver(url: string, msg: ReturnType<typeof signedNotification>, log: pino.Logger, retryDelayMs: number): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: msg.headers, body: msg.body, redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      if (res.status < 300) return;
      log.warn({ url, status: res.status, attempt }, 'notification refused');
    } catch (err) {
      log.warn({ url, err: (err as Error).message, attempt }, 'notification failed');
    }
    await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
  }
}
