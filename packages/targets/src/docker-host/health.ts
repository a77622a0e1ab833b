// Waits until one replica answers HTTP on its network address. Fails fast when the container exits
// or restarts (no point waiting out the timeout for a process that already died).
import type Dockerode from 'dockerode';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheck } from '@dreamnet/core';
import { healthUrl, isHealthyStatus } from './state.js';
import { decodeAll } from './frames.js';

// Short: a release goes live as soon as it answers (the check is one inspect + one GET).
export const POLL_MS = 50;

export interface HealthTarget {
  id: string;
  port: number;
  network: string;
  check: HealthCheck;
  signal?: AbortSignal;
}

/** Resolves with the replica's IP once healthy; rejects with a sentence saying why it is not. */
export async function waitHealthy(docker: Dockerode, t: HealthTarget): Promise<string> {
  const container = docker.getContainer(t.id);
  const deadline = Date.now() + t.check.timeoutMs;
  let restarts: number | null = null;
  let last = 'it never answered';
  for (;;) {
    if (t.signal?.aborted) throw new Error('cancelled');
    const info = await container.inspect();
    restarts ??= info.RestartCount;
    if (info.RestartCount > restarts) throw new Error(`it crashed and was restarted (exit code ${info.State.ExitCode})`);
    if (!info.State.Running && info.State.Status !== 'created') {
      throw new Error(`it exited with code ${info.State.ExitCode}${info.State.Error ? ` (${info.State.Error})` : ''}`);
    }
    const ip = info.NetworkSettings?.Networks?.[t.network]?.IPAddress;
    if (ip) {
      const url = healthUrl(ip, t.port, t.check.path);
      const left = deadline - Date.now();
      try {
        const status = await getStatus(url, Math.max(100, Math.min(2000, left)));
        if (isHealthyStatus(status, t.check.path)) return ip;
        last = `GET ${t.check.path ?? '/'} answered ${status}`;
      } catch (e) {
        const cause = (e as { code?: string }).code;
        last = `nothing answered on port ${t.port}${cause ? ` (${cause})` : ''}`;
      }
    }
    if (Date.now() + POLL_MS > deadline) throw new Error(`it was not healthy within ${t.check.timeoutMs} ms: ${last}`);
    await sleep(POLL_MS);
  }
}

/**
 * The status of one GET (redirects not followed, body discarded). node:http rather than fetch: fetch
 * would load a second HTTP stack (undici) into the idle api just for these checks.
 */
function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy(); // the status is all we want; a streaming body must not keep the socket open
    });
    // A timeout says nothing about the port (no code), as fetch's did.
    req.on('error', (e: Error & { code?: string }) => reject(e.name === 'AbortError' ? new Error('timed out') : e));
  });
}

/** The last `n` lines a container printed (stdout and stderr), for failure messages. */
export async function lastLines(docker: Dockerode, id: string, n = 20): Promise<string[]> {
  try {
    const buf = await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: n, follow: false });
    return decodeAll(Buffer.isBuffer(buf) ? buf : Buffer.from(buf)).map((l) => l.line).slice(-n);
  } catch {
    return [];
  }
}
