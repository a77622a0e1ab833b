// DockerHostTarget against the real Docker engine: the shared contract (with real HTTP GETs to the
// endpoints) plus what only a real host can show: isolation settings, crash loops, logs, exec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import type { Endpoint, ReleaseSpec } from '@dreamnet/core';
import { DockerHostTarget } from '@dreamnet/targets';
import { targetContract } from '@dreamnet/targets/contract';

const NETWORK = 'tt-net';
const IMAGE = 'dreamnet/node:20';
const docker = new Dockerode();

function spec(app: string, releaseId: string, version: number, program: string, timeoutMs = 15_000): ReleaseSpec {
  return {
    app, releaseId, version, image: IMAGE, env: { V: String(version) }, replicas: 1, port: 5000,
    command: ['node', '-e', program],
    healthCheck: { path: null, timeoutMs }, limits: { memoryMb: 128, cpus: 0.5 },
  };
}
const SERVER = "require('http').createServer((q,s)=>s.end('v'+process.env.V)).listen(process.env.PORT)";
const BROKEN = "require('http').createServer((q,s)=>{s.statusCode=500;s.end('no')}).listen(process.env.PORT)";

async function probe(e: Endpoint): Promise<string> {
  const res = await fetch(`http://${e.host}:${e.port}/`, { signal: AbortSignal.timeout(3000) });
  return `${res.status === 200 ? '' : res.status}${await res.text()}`;
}

/** Removes what these tests made: tt-* app containers and the tt-net network. */
async function cleanup(): Promise<void> {
  const t = new DockerHostTarget({ docker, network: NETWORK, stopGraceSec: 1 });
  for (const app of new Set((await t.inventory()).map((i) => i.app).filter((a) => a.startsWith('tt-')))) await t.remove(app);
  await docker.getNetwork(NETWORK).remove().catch(() => {});
}

targetContract('docker-host', async () => {
  await cleanup();
  return {
    target: new DockerHostTarget({ docker, network: NETWORK, stopGraceSec: 2 }),
    goodSpec: (a, r, v) => spec(a, r, v, SERVER),
    badSpec: (a, r, v) => spec(a, r, v, BROKEN, 2500),
    probe,
    appPrefix: 'tt',
    cleanup,
  };
});

describe('docker-host only', () => {
  const target = new DockerHostTarget({ docker, network: NETWORK, stopGraceSec: 2 });
  beforeAll(cleanup);
  afterAll(cleanup);

  it('runs replicas isolated: no-new-privileges, memory limit, no docker.sock, no published ports', async () => {
    const { endpoints } = await target.apply(spec('tt-iso', 'r1', 1, SERVER));
    const [inv] = (await target.inventory()).filter((i) => i.app === 'tt-iso');
    const info = await docker.getContainer(inv!.id).inspect();
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(JSON.stringify(info.Mounts)).not.toContain('docker.sock');
    expect(info.Mounts).toEqual([]);
    expect(info.NetworkSettings.Ports?.['5000/tcp'] ?? null).toBeNull();
    // The kernel agrees: the process itself sees NoNewPrivs.
    const s = await target.exec('tt-iso', ['sh', '-c', 'grep NoNewPrivs /proc/self/status'], false);
    let out = '';
    for await (const c of s.output) out += String(c);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
    expect(await probe(endpoints[0]!)).toBe('v1');
    // Another platform on the same engine (another network) neither sees nor removes these replicas.
    const other = new DockerHostTarget({ docker, network: 'tt-other-net' });
    expect((await other.inventory()).filter((i) => i.app === 'tt-iso')).toEqual([]);
    await other.remove('tt-iso');
    expect(await probe((await target.endpoints('tt-iso'))[0]!)).toBe('v1');
  });

  it('makes its network again when someone removed it (docker network prune)', async () => {
    const t = new DockerHostTarget({ docker, network: 'tt-net2', stopGraceSec: 1 });
    await t.apply(spec('tt-net-a', 'r1', 1, SERVER));
    await t.remove('tt-net-a');
    await docker.getNetwork('tt-net2').remove();
    const { endpoints } = await t.apply(spec('tt-net-a', 'r2', 2, SERVER));
    expect(await probe(endpoints[0]!)).toBe('v2');
    await t.remove('tt-net-a');
    await docker.getNetwork('tt-net2').remove();
  });

  it('reports a replica that keeps crashing as crash-loop', async () => {
    // Healthy at first, then exits 1 after a second, again and again until Docker gives up.
    const crashy = `${SERVER};setTimeout(()=>{console.error('boom');process.exit(1)},1000)`;
    await target.apply(spec('tt-crash', 'r1', 1, crashy));
    let st = await target.status('tt-crash');
    for (let i = 0; i < 100 && !st.crashLooping; i++) {
      await new Promise((r) => setTimeout(r, 200));
      st = await target.status('tt-crash');
    }
    expect(st.crashLooping).toBe(true);
    expect(st.replicas[0]).toMatchObject({ state: 'crash-loop', exitCode: 1 });
    expect(st.replicas[0]!.restartCount).toBeGreaterThanOrEqual(3);
    expect(st.healthy).toBe(0);
    expect(await target.endpoints('tt-crash')).toEqual([]);
    const lines: string[] = [];
    for await (const l of target.logs('tt-crash', { tail: 50 })) lines.push(`${l.stream}:${l.line}`);
    expect(lines).toContain('stderr:boom');
  }, 60_000);

  it('fails fast with the exit reason and the log lines when the process dies at start', async () => {
    const started = Date.now();
    const err = await target.apply(spec('tt-die', 'r1', 1, "console.log('missing DATABASE_URL');process.exit(3)", 30_000))
      .catch((e: Error & { code?: string }) => e);
    expect((err as { code?: string }).code).toBe('HEALTH_CHECK_FAILED');
    expect((err as Error).message).toMatch(/exit|restarted/);
    expect((err as Error).message).toContain('missing DATABASE_URL');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await target.inventory()).filter((i) => i.app === 'tt-die')).toEqual([]);
  });

  it('logs() yields the lines the replicas printed, and follows new ones', async () => {
    const talk = `console.log('hello from '+process.env.V);console.error('warn line');${SERVER};setInterval(()=>console.log('tick'),300)`;
    await target.apply({ ...spec('tt-logs', 'r1', 7, talk), replicas: 2 });
    const lines: Array<[number, string, string]> = [];
    for await (const l of target.logs('tt-logs', {})) lines.push([l.replica, l.stream, l.line]);
    expect(lines).toContainEqual([1, 'stdout', 'hello from 7']);
    expect(lines).toContainEqual([2, 'stdout', 'hello from 7']);
    expect(lines).toContainEqual([1, 'stderr', 'warn line']);
    const followed: string[] = [];
    for await (const l of target.logs('tt-logs', { follow: true, tail: 0 })) {
      expect(Number.isNaN(Date.parse(l.at))).toBe(false);
      followed.push(l.line);
      if (followed.length >= 3) break;
    }
    expect(followed).toEqual(['tick', 'tick', 'tick']);
  });

  it('exec runs an argv array and reports output and exit code', async () => {
    await target.apply(spec('tt-exec', 'r1', 1, SERVER));
    const s = await target.exec('tt-exec', ['sh', '-c', 'echo hi'], false);
    let out = '';
    for await (const c of s.output) out += String(c);
    expect(out).toBe('hi\n');
    expect(await s.exit).toBe(0);
    const f = await target.exec('tt-exec', ['sh', '-c', 'echo nope >&2; exit 7'], false);
    let err = '';
    for await (const c of f.output) err += String(c);
    expect(err).toBe('nope\n');
    expect(await f.exit).toBe(7);
    // A terminal session: input goes to the process, output is raw tty bytes.
    const t = await target.exec('tt-exec', ['sh'], true);
    await t.resize(100, 30);
    t.input.write('stty size; exit 5\n');
    let tty = '';
    for await (const c of t.output) tty += String(c);
    expect(tty).toContain('30 100');
    expect(await t.exit).toBe(5);
  });
});
