// Shared by the builder integration tests: fixture trees, tar packing, running a built image.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import * as tarfs from 'tar-fs';

export const PREFIX = 'builder-it';
export const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

export const packDir = (dir: string) => tarfs.pack(dir) as unknown as Readable;

export const nodeServer = (text: string) =>
  `require('http').createServer((q, r) => r.end(${JSON.stringify(text)} + ' uid=' + process.getuid() + ' env=' + process.env.NODE_ENV))` +
  `.listen(process.env.PORT, () => console.log('listening on ' + process.env.PORT));\nprocess.on('SIGTERM', () => process.exit(0));\n`;

/** Runs `image` on the default bridge published to a random loopback port; returns its base URL. */
export async function runImage(image: string, name: string): Promise<{ url: string; stop(): Promise<void> }> {
  const c = await docker.createContainer({
    name, Image: image, Labels: { [`${PREFIX}`]: 'true' },
    ExposedPorts: { '5000/tcp': {} },
    HostConfig: { PortBindings: { '5000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, AutoRemove: false },
  });
  await c.start();
  const info = await c.inspect();
  const port = info.NetworkSettings.Ports['5000/tcp']![0]!.HostPort;
  return { url: `http://127.0.0.1:${port}`, stop: () => c.remove({ force: true }).then(() => undefined) };
}

/** One GET over node:http with its own deadline (Node 20's fetch to a port docker-proxy has just published can stay pending forever). */
function getOnce(url: string, ms: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${ms} ms`)));
    req.on('error', reject);
  });
}

/** GET with retries while the app starts. */
export async function getWhenUp(url: string, timeoutMs = 20_000): Promise<{ status: number; body: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await getOnce(url, 2000);
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Removes every container and image the builder tests made. */
export async function cleanup(): Promise<void> {
  for (const c of await docker.listContainers({ all: true, filters: { label: [PREFIX] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  for (const img of await docker.listImages({ filters: { reference: [`dream-app/${PREFIX}-*`] } })) {
    for (const tag of img.RepoTags ?? []) if (tag.startsWith(`dream-app/${PREFIX}-`)) await docker.getImage(tag).remove({ force: true }).catch(() => {});
  }
}
