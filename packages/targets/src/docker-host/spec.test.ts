import { describe, expect, it } from 'vitest';
import type { ReleaseSpec } from '@dreamnet/core';
import { containerEnv, containerName, createOptions, labelFilter, networkCreateOptions } from './spec.js';

const spec: ReleaseSpec = {
  app: 'hello',
  releaseId: 'r_7f3a',
  version: 3,
  image: 'dream-app/hello@sha256:abc',
  env: { V: '1', DATABASE_URL: 'postgres://x', PORT: '9999' },
  replicas: 2,
  port: 5000,
  healthCheck: { path: '/health', timeoutMs: 30_000 },
  limits: { memoryMb: 256, cpus: 0.5 },
};

describe('containerName', () => {
  it('is dream-<app>-<release>-<replica>', () => {
    expect(containerName('hello', 'r_7f3a', 2)).toBe('dream-hello-r_7f3a-2');
  });
  it('never lets a release id put odd characters into a Docker name', () => {
    expect(containerName('hello', '../x y', 1)).toBe('dream-hello-..-x-y-1');
  });
});

describe('createOptions', () => {
  it('translates a release spec (snapshot)', () => {
    expect(createOptions(spec, 2, 'dreamnet')).toEqual({
      name: 'dream-hello-r_7f3a-2',
      Image: 'dream-app/hello@sha256:abc',
      Env: ['V=1', 'DATABASE_URL=postgres://x', 'PORT=5000'],
      Labels: {
        'dev.dreamnet.managed': 'true',
        'dev.dreamnet.app': 'hello',
        'dev.dreamnet.release': 'r_7f3a',
        'dev.dreamnet.replica': '2',
        'dev.dreamnet.kind': 'web',
        'dev.dreamnet.port': '5000',
        'dev.dreamnet.version': '3',
      },
      Hostname: 'hello-2',
      ExposedPorts: { '5000/tcp': {} },
      StopSignal: 'SIGTERM',
      StopTimeout: 10,
      HostConfig: {
        NetworkMode: 'dreamnet',
        PortBindings: {},
        PublishAllPorts: false,
        Binds: [],
        Memory: 268435456,
        MemorySwap: 268435456,
        NanoCpus: 500000000,
        PidsLimit: 512,
        SecurityOpt: ['no-new-privileges:true'],
        CapDrop: ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'],
        Privileged: false,
        Init: true,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } },
      },
    });
  });

  it('uses the image command unless the spec gives one (argv, never a shell string)', () => {
    expect(createOptions(spec, 1, 'n').Cmd).toBeUndefined();
    const cmd = ['node', '-e', 'console.log(1)'];
    expect(createOptions({ ...spec, command: cmd }, 1, 'n').Cmd).toEqual(cmd);
  });

  it('never mounts anything, never publishes ports, never runs privileged', () => {
    const h = createOptions(spec, 1, 'n').HostConfig!;
    expect(JSON.stringify(h)).not.toContain('docker.sock');
    expect(h.Binds).toEqual([]);
    expect(h.Mounts).toBeUndefined();
    expect(h.PortBindings).toEqual({});
    expect(h.Privileged).toBe(false);
  });

  it('PORT always equals spec.port, whatever the env says', () => {
    expect(containerEnv(spec).filter((e) => e.startsWith('PORT='))).toEqual(['PORT=5000']);
  });
});

describe('filters', () => {
  it('selects managed containers, optionally of one app', () => {
    expect(labelFilter()).toEqual({ label: ['dev.dreamnet.managed=true'] });
    expect(labelFilter('hello')).toEqual({ label: ['dev.dreamnet.managed=true', 'dev.dreamnet.app=hello'] });
  });
  it('labels the network as managed', () => {
    expect(networkCreateOptions('dreamnet')).toEqual({
      Name: 'dreamnet', Driver: 'bridge', CheckDuplicate: true, Labels: { 'dev.dreamnet.managed': 'true' },
    });
  });
});
