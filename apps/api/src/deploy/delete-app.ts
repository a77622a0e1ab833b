// Deleting an app. Whatever works on it right now — a deployment, restart or scale, a reconcile step
// re-applying its release — is cancelled and allowed to clean up first; only then are its replicas
// listed and removed at the target, so none that such work started survives, and only then do its
// routes, rows and repository go. Runs in the app's slot, so no reconcile step or deployment of the
// app starts until the rows are gone (and those find no app afterwards).
import { DreamError } from '@dreamnet/core';
import type { Services } from '../services.js';

/**
 * How long cancelled work may take to let go: an aborted rollout still removes the replicas it
 * started, and a traffic switch already under way finishes (bounded by the drain timeout). A build
 * gets the signal too: the api closes its request to the builder, which stops the engine's build
 * (apps/builder/src/server.ts), so it lets go at once. The bound is for work that does not let go
 * (an unreachable engine); past it the deletion goes on, and a build that finishes later makes no
 * release (the deployer checks the signal after the build).
 */
export const CANCEL_WAIT_MS = 60_000;

export async function deleteApp(s: Pick<Services, 'store' | 'target' | 'routes' | 'git' | 'deployer' | 'reconciler'>, name: string,
  waitMs = CANCEL_WAIT_MS): Promise<void> {
  s.store.apps.get(name); // 404 before cancelling anything
  const deleted = new DreamError('APP_NOT_FOUND', `The app "${name}" was deleted while this was in progress.`);
  await s.deployer.work.cancelThen(name, deleted, waitMs, async () => {
    s.store.apps.get(name); // a concurrent deletion may have finished first
    await s.target.remove(name);
    s.routes.remove(name);
    s.store.apps.delete(name);
    s.reconciler.lastStatus.delete(name);
    s.git.remove(name);
  });
}
