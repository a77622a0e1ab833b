// Docker labels that mark what the platform owns; the reconciler adopts or removes by these.
export const LABEL = {
  managed: 'dev.dreamnet.managed',
  app: 'dev.dreamnet.app',
  release: 'dev.dreamnet.release',
  replica: 'dev.dreamnet.replica',
  kind: 'dev.dreamnet.kind',
  /** The port the replica listens on inside its network (endpoints() reads it back). */
  port: 'dev.dreamnet.port',
  /** ReleaseSpec.version: the newest running release is the one that serves. */
  version: 'dev.dreamnet.version',
} as const;
