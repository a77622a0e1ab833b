// Listening to deployment state changes across a restore: restore swaps the store's repositories in
// place (admin/service.ts), so a listener attached to the old DeploymentsRepo would go deaf. This
// re-attaches after any response (the restore request's included) when the repository changed.
import type { FastifyInstance } from 'fastify';
import type { Store } from './index.js';
import type { TransitionListener } from './deployments.js';

export function followTransitions(app: FastifyInstance, store: Store, fn: TransitionListener): void {
  let repo = store.deployments;
  repo.onTransition(fn);
  app.addHook('onResponse', async () => {
    if (store.deployments === repo) return;
    repo = store.deployments;
    repo.onTransition(fn);
  });
}
