// The new proxy's side of the handover: ask the running predecessor for its listening sockets
// ("pass", with the native addon) or, failing that, to let go of the ports ("release") and bind.
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { fdOf, type FdPass } from './fdpass.js';
import { encode, MAX_PASSED, parseMessage, readMessages } from './protocol.js';

export interface Predecessor {
  /** Listening sockets the predecessor passed, by port (listen on these; bind the other ports). Empty after a release. */
  readonly fds: ReadonlyMap<number, number>;
  /** Tells the old proxy that we listen; it stops accepting (after a pass) and drains. */
  confirm(): void;
}

type Found = { fail: 'none' } | { fail: 'unsupported' } | Predecessor;
const NONE = { fail: 'none' } as const;

/**
 * Asks a running predecessor for the ports and resolves once they are ours: with its listening
 * sockets when `pass` (the addon) is given and it can pass them, else once it released them (then
 * bind at once). Null when there is none (or it does not answer in time).
 */
export async function requestHandover(file: string, log: Logger, pass: FdPass | null, timeoutMs = 10_000): Promise<Predecessor | null> {
  if (pass) {
    // With the addon the answer is read by recvmsg (descriptors ride on it), not by node: paused.
    const got = await ask(file, log, timeoutMs, { paused: true, exchange: (x) => receiveSockets(x, log, pass) });
    // A predecessor from before "pass" existed drops the line it does not know: ask the old way.
    if ('fail' in got && got.fail === 'unsupported') log.info('handover: the previous proxy cannot pass its sockets; asking it to release them');
    else return 'fail' in got ? null : got;
  }
  const got = await ask(file, log, timeoutMs, { paused: false, exchange: (x) => askRelease(x, log) });
  return 'fail' in got ? null : got;
}

/** One exchange on a connected socket; `finish` resolves the handover (once). */
interface Exchange {
  sock: net.Socket;
  finish(r: Found): void;
  readonly done: boolean;
  /** Runs `fn` again soon (cancelled once finished). */
  retry(fn: () => void): void;
  /** The ports are ours: with these passed sockets (empty: released, bind them). */
  found(fds: ReadonlyMap<number, number>): Predecessor;
}

/** Connects to the predecessor's socket and runs `exchange` on it, within `timeoutMs`. */
function ask(file: string, log: Logger, timeoutMs: number, o: { paused: boolean; exchange: (x: Exchange) => void }): Promise<Found> {
  return new Promise((resolve) => {
    const sock = net.connect(file);
    if (o.paused) sock.pause();
    let done = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = (r: Found) => { if (!done) { done = true; clearTimeout(timer); clearTimeout(poll); resolve(r); } };
    const timer = setTimeout(() => { log.warn('handover: the previous proxy did not answer in time; binding anyway'); sock.destroy(); finish(NONE); }, timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // ECONNREFUSED: a socket file left by a proxy that was killed; the next proxy re-creates it.
      if (e.code === 'ECONNREFUSED') fs.rmSync(file, { force: true });
      if (e.code !== 'ENOENT' && e.code !== 'ECONNREFUSED') log.warn({ err: e.code ?? e.message }, 'handover: cannot reach the previous proxy');
      finish(NONE);
    });
    sock.on('close', () => finish(NONE));
    sock.on('connect', () => o.exchange({
      sock, finish,
      get done() { return done; },
      retry: (fn) => { poll = setTimeout(fn, 1); },
      found: (fds) => ({ fds, confirm: () => { sock.end(encode('listening')); } }),
    }));
  });
}

/** "release" → "released": the predecessor closed its listeners; we bind. */
function askRelease(x: Exchange, log: Logger): void {
  x.sock.write(encode('release'));
  readMessages(x.sock, (op) => {
    if (op !== 'released') { x.sock.destroy(); return; }
    log.info('handover: the previous proxy released the listeners');
    x.finish(x.found(new Map()));
  });
}

/**
 * "pass" → "passed" with the listening sockets attached (or "released" without any). The answer is
 * read by recvmsg, polled while nothing arrived; end of stream at once: a predecessor that cannot pass.
 */
function receiveSockets(x: Exchange, log: Logger, pass: FdPass): void {
  x.sock.write(encode('pass'));
  let text = '';
  const fds: number[] = [];
  const closeAll = () => { for (const fd of fds.splice(0)) fs.closeSync(fd); };
  const drop = () => { closeAll(); x.sock.destroy(); };
  const read = () => {
    if (x.done) { closeAll(); return; }
    const fd = fdOf(x.sock);
    let got: ReturnType<FdPass['recv']>;
    try { got = fd === null ? { text: '', fds: [] } : pass.recv(fd); } catch { got = { text: '', fds: [] }; }
    if (!got) { x.retry(read); return; }
    fds.push(...got.fds);
    text += got.text;
    if (got.text === '') { drop(); x.finish({ fail: 'unsupported' }); return; }
    const nl = text.indexOf('\n');
    if (nl < 0) { if (text.length > 256) drop(); else x.retry(read); return; }
    const msg = parseMessage(text.slice(0, nl));
    x.sock.resume();
    if (msg?.op === 'released' && fds.length === 0) {
      log.info('handover: the previous proxy released the listeners');
      x.finish(x.found(new Map()));
    } else if (msg?.op === 'passed' && msg.ports!.length === fds.length && fds.length <= MAX_PASSED) {
      log.info({ ports: msg.ports }, 'handover: the previous proxy passed its listening sockets');
      x.finish(x.found(new Map(msg.ports!.map((p, i) => [p, fds[i]!]))));
    } else {
      drop();
    }
  };
  read();
}

/** Resolves once every port can be bound on `host` (a released port may take a moment to free). */
export async function waitPortsFree(ports: number[], host: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const probe = net.createServer();
        probe.once('error', (e) => resolve(e));
        probe.listen(port, host, () => probe.close(() => resolve(null)));
      });
      if (!err) break;
      if (err.code !== 'EADDRINUSE' || Date.now() > deadline) return; // startProxy reports it
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
