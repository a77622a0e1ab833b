// An HTTP/2 client that behaves as RFC 9113 lets a client behave around a server's GOAWAY (node's
// http2 client alone does not): new requests go to a new connection once GOAWAY arrived, and a
// request the server never processed — refused with REFUSED_STREAM (§8.7), above the GOAWAY's
// last-stream-id (§6.8), or never sent — is retried on a new connection. Anything else that fails
// is a failure a user sees; one the server had accepted (response headers received, or at or below
// the last-stream-id) is also listed as `acceptedFailed`: a request lost in flight.
import http2 from 'node:http2';

export interface H2Load {
  /** Stops sending; resolves once every request ended (or timed out) with the counts. */
  stop(): Promise<H2LoadResult>;
}

export interface H2LoadResult {
  total: number;
  ok: number;
  /** Attempts retried as the spec allows (not failures), by why: what node's client alone would surface. */
  retried: Record<string, number>;
  /** Failed requests by what the client saw (error code, rst code, status). */
  failed: Record<string, number>;
  /** Failed requests the server had accepted: why, and the stream id against the last-stream-id. */
  acceptedFailed: string[];
  /** Connections opened (one per GOAWAY/close, plus the first). */
  sessions: number;
  goaways: number;
  /** Connection errors by code (each also fails or retries its streams). */
  sessionErrors: Record<string, number>;
}

interface Session { s: http2.ClientHttp2Session; lastStreamId?: number }

export interface H2LoadOptions {
  url: string;
  authority: string;
  /** Trusted CA; without it any certificate is taken (the .dream names get the built-in CA's). */
  ca?: Buffer;
  /** Requests per second (sent evenly, every `1000 / rate` ms, independent of answers). */
  rate: number;
  /** The path of the n-th request. */
  path: (n: number) => string;
  timeoutMs?: number;
}

const { NGHTTP2_REFUSED_STREAM } = http2.constants;

export function h2Load(o: H2LoadOptions): H2Load {
  const timeoutMs = o.timeoutMs ?? 15_000;
  let current: Session | null = null;
  let sessions = 0;
  let goaways = 0;
  const retried: Record<string, number> = {};
  const retry = (why: string) => { retried[why] = (retried[why] ?? 0) + 1; };
  const failed: Record<string, number> = {};
  const sessionErrors: Record<string, number> = {};
  const acceptedFailed: string[] = [];
  const all: Promise<boolean>[] = [];
  const open = new Set<Session>();

  const session = (): Session => {
    if (current && !current.s.closed && !current.s.destroyed) return current;
    const c: Session = { s: http2.connect(o.url, { ca: o.ca, servername: o.authority.split(':')[0], rejectUnauthorized: !!o.ca }) };
    sessions++;
    open.add(c);
    current = c;
    const retire = () => { if (current === c) current = null; };
    c.s.on('goaway', (_code: number, lastStreamId: number) => { goaways++; c.lastStreamId = lastStreamId; retire(); });
    c.s.on('error', (e: NodeJS.ErrnoException) => { const k = e.code ?? e.message; sessionErrors[k] = (sessionErrors[k] ?? 0) + 1; retire(); });
    c.s.on('close', () => { retire(); open.delete(c); });
    return c;
  };

  const fail = (why: string, accepted: string | null) => {
    failed[why] = (failed[why] ?? 0) + 1;
    if (accepted) acceptedFailed.push(`${why} (${accepted})`);
    return false;
  };

  /** One request, retried while the server provably did not process it. */
  const send = (path: string, attempt = 1): Promise<boolean> => new Promise((resolve) => {
    const c = session();
    let req: http2.ClientHttp2Stream;
    try {
      req = c.s.request({ ':path': path, ':authority': o.authority }, { endStream: true });
    } catch {
      // The session went away between session() and request(): nothing was sent.
      if (current === c) current = null;
      retry('not sent: session going away');
      resolve(send(path, attempt + 1));
      return;
    }
    let status = 0;
    let ended = false;
    let err = '';
    const timer = setTimeout(() => { err = 'TIMEOUT'; req.close(http2.constants.NGHTTP2_CANCEL); }, timeoutMs);
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', () => {});
    req.on('end', () => { ended = true; });
    req.on('error', (e: NodeJS.ErrnoException) => { err ||= e.code ?? e.message; });
    req.on('close', () => {
      clearTimeout(timer);
      if (ended && status === 200 && !err) return resolve(true);
      const id = req.id;
      const last = c.lastStreamId;
      const unprocessed = !status && err !== 'TIMEOUT' && (req.rstCode === NGHTTP2_REFUSED_STREAM || id === undefined || (last !== undefined && id > last));
      if (unprocessed && attempt < 5) {
        retry(req.rstCode === NGHTTP2_REFUSED_STREAM ? 'REFUSED_STREAM' : id === undefined ? `never sent (${err})` : `above last-stream-id (${err} rst=${req.rstCode})`);
        // A connection that could not be made is tried again after a pause, as clients back off.
        setTimeout(() => resolve(send(path, attempt + 1)), id === undefined ? 25 * attempt : 0);
        return;
      }
      const why = err ? `${err} rst=${req.rstCode}` : status ? `HTTP ${status}${ended ? '' : ' (cut)'}` : `no response (rst=${req.rstCode})`;
      const accepted = status ? `stream ${id} got response headers` : last !== undefined && id !== undefined && id <= last ? `stream ${id} <= last-stream-id ${last}` : null;
      resolve(fail(why, accepted));
    });
  });

  let n = 0;
  const timer = setInterval(() => all.push(send(o.path(n++))), 1000 / o.rate);
  return {
    async stop() {
      clearInterval(timer);
      const results = await Promise.all(all);
      for (const c of open) c.s.close();
      return { total: results.length, ok: results.filter(Boolean).length, retried, failed, acceptedFailed, sessions, goaways, sessionErrors };
    },
  };
}
