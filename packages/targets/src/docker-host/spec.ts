// Pure translation: ReleaseSpec → dockerode create options, container names and labels. No I/O, so
// every security-relevant setting is pinned by spec.test.ts.
import type Dockerode from 'dockerode';
import { LABEL, type ReleaseSpec } from '@dreamnet/core';

/** Docker restarts a crashing replica this many times, then leaves it exited: status() reports crash-loop. */
export const MAX_RESTARTS = 3;
/** Seconds between SIGTERM and SIGKILL when a replica is stopped. */
export const STOP_GRACE_SEC = 10;
export const PIDS_LIMIT = 512;
/** Default capabilities a web process never needs (raw sockets, device nodes, audit, file caps, chroot). */
export const CAP_DROP = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'];
/**
 * Docker's json-file logs of one replica: at most 5 × 20 MB on the host's disk. The api reads them into
 * its own store as they come; a log file that rotates away before it was read loses its lines, so the
 * files hold a few seconds of a flood (~100 MB ≈ 1M lines of 100 bytes ≈ 10 s at 100k lines/s)
 * while staying small next to the disk a host has.
 */
export const LOG_OPTS = { 'max-size': '20m', 'max-file': '5' };

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; release ids are ours, but never trust them into a name. */
function safe(part: string): string {
  return part.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 64);
}

export function containerName(app: string, releaseId: string, replica: number): string {
  return `dream-${safe(app)}-${safe(releaseId)}-${replica}`;
}

export function containerLabels(spec: ReleaseSpec, replica: number): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.app]: spec.app,
    [LABEL.release]: spec.releaseId,
    [LABEL.replica]: String(replica),
    [LABEL.kind]: 'web',
    [LABEL.port]: String(spec.port),
    [LABEL.version]: String(spec.version),
  };
}

/** Env as Docker wants it; PORT always equals spec.port so the proxy and the app agree. */
export function containerEnv(spec: ReleaseSpec): string[] {
  const env = Object.entries(spec.env)
    .filter(([k]) => k !== 'PORT')
    .map(([k, v]) => `${k}=${v}`);
  env.push(`PORT=${spec.port}`);
  return env;
}

/** How every platform container is confined: limits, no privileges, nothing published or mounted. */
export function confinedHostConfig(network: string, limits: ReleaseSpec['limits']): Dockerode.HostConfig {
  const bytes = Math.round(limits.memoryMb * 1024 * 1024);
  return {
    NetworkMode: network,
    // Reachable only through the proxy: nothing published, nothing mounted (never the Docker socket).
    PortBindings: {},
    PublishAllPorts: false,
    Binds: [],
    Memory: bytes,
    // Same as Memory: no swap beyond the limit, so the limit is real.
    MemorySwap: bytes,
    NanoCpus: Math.round(limits.cpus * 1e9),
    PidsLimit: PIDS_LIMIT,
    SecurityOpt: ['no-new-privileges:true'],
    CapDrop: CAP_DROP,
    Privileged: false,
    // tini as PID 1: forwards SIGTERM to the app (node as PID 1 ignores it) and reaps zombies.
    Init: true,
    LogConfig: { Type: 'json-file', Config: LOG_OPTS },
  };
}

export function createOptions(spec: ReleaseSpec, replica: number, network: string): Dockerode.ContainerCreateOptions {
  const opts: Dockerode.ContainerCreateOptions = {
    name: containerName(spec.app, spec.releaseId, replica),
    Image: spec.image,
    Env: containerEnv(spec),
    Labels: containerLabels(spec, replica),
    Hostname: `${spec.app}-${replica}`.slice(0, 63),
    ExposedPorts: { [`${spec.port}/tcp`]: {} },
    StopSignal: 'SIGTERM',
    StopTimeout: STOP_GRACE_SEC,
    // Bounded retries: a crash loop ends and is reported instead of spinning forever.
    HostConfig: { ...confinedHostConfig(network, spec.limits), RestartPolicy: { Name: 'on-failure', MaximumRetryCount: MAX_RESTARTS } },
  };
  if (spec.command && spec.command.length > 0) opts.Cmd = [...spec.command];
  return opts;
}

/** Label filter for dockerode listContainers: every managed container, optionally of one app. */
export function labelFilter(app?: string): { label: string[] } {
  const label = [`${LABEL.managed}=true`];
  if (app !== undefined) label.push(`${LABEL.app}=${app}`);
  return { label };
}

export function networkCreateOptions(network: string): Dockerode.NetworkCreateOptions {
  return { Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL.managed]: 'true' } };
}
