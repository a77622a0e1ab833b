// One-off containers (`dream run`) and terminal attach argv (`dream shell`). The api runs the argv in
// a pseudo-terminal, so the docker CLI handles raw mode, window size and exit codes; argv only.
import crypto from 'node:crypto';
import type Dockerode from 'dockerode';
import { LABEL, type RunSpec } from '@dreamnet/core';
import { confinedHostConfig } from './spec.js';

/** Marks one-off containers; they carry no replica label, so replica listing never adopts them. */
export const RUN_LABEL = 'dev.dreamnet.run';

export function runName(app: string): string {
  return `dream-run-${app.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40)}-${crypto.randomBytes(4).toString('hex')}`;
}

/** The docker CLI, pointed at the engine `docker` talks to. */
export function dockerCli(docker: Dockerode, ...args: string[]): string[] {
  // docker-modem's default is a function (it probes ~/.docker/run/docker.sock): then the CLI's default.
  const sp = (docker.modem as { socketPath?: unknown }).socketPath;
  return ['docker', ...(typeof sp === 'string' ? ['-H', `unix://${sp}`] : []), ...args];
}

/** Same confinement as a replica (spec.ts), but a terminal, no restarts, not on the replica list. */
export function runCreateOptions(spec: RunSpec, name: string, network: string): Dockerode.ContainerCreateOptions {
  return {
    name,
    Image: spec.image,
    Cmd: [...spec.cmd],
    Env: [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), 'TERM=xterm-256color'],
    Labels: { [LABEL.managed]: 'true', [LABEL.app]: spec.app, [LABEL.kind]: 'run', [RUN_LABEL]: 'true' },
    Tty: !spec.detach,
    OpenStdin: !spec.detach,
    StdinOnce: !spec.detach,
    AttachStdin: !spec.detach,
    AttachStdout: !spec.detach,
    AttachStderr: !spec.detach,
    HostConfig: { ...confinedHostConfig(network, spec.limits), RestartPolicy: { Name: 'no' } },
  };
}
