// DreamNet static site server: shipped into the build context of sites with an index.html and no
// package.json. No dependencies; serves files under the directory given as argv[2] on $PORT.
// Dot-files (.git, .env, .dreamnet) are never served; paths cannot leave the root.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(process.argv[2] || process.cwd());
const port = Number(process.env.PORT || 5000);
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.wasm': 'application/wasm', '.xml': 'application/xml',
  '.pdf': 'application/pdf', '.map': 'application/json', '.webmanifest': 'application/manifest+json',
};

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Maps a URL path to a file under root, or null when it is not allowed. */
function resolve(urlPath) {
  let decoded;
  try { decoded = decodeURIComponent(urlPath); } catch { return null; }
  if (decoded.includes('\0')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p.startsWith('.') || p.includes('\\'))) return null;
  const file = path.join(root, ...parts);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function stat(file) {
  try { return fs.statSync(file); } catch { return null; }
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.setHeader('allow', 'GET, HEAD'); return send(res, 405, 'Method Not Allowed\n'); }
  const urlPath = (req.url || '/').split('?')[0];
  let file = resolve(urlPath);
  if (!file) return send(res, 404, 'Not Found\n');
  let st = stat(file);
  if (st && st.isDirectory()) {
    if (!urlPath.endsWith('/')) { res.writeHead(301, { location: urlPath + '/' }); return res.end(); }
    file = path.join(file, 'index.html');
    st = stat(file);
  }
  if (!st && path.extname(file) === '') { const html = stat(file + '.html'); if (html && html.isFile()) { file += '.html'; st = html; } }
  if (!st || !st.isFile()) {
    const notFound = path.join(root, '404.html');
    if (stat(notFound)?.isFile()) { res.writeHead(404, { 'content-type': TYPES['.html'] }); return req.method === 'HEAD' ? res.end() : fs.createReadStream(notFound).pipe(res); }
    return send(res, 404, 'Not Found\n');
  }
  const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, { etag }); return res.end(); }
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
    'content-length': st.size,
    'last-modified': st.mtime.toUTCString(),
    etag,
  });
  if (req.method === 'HEAD') return res.end();
  fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
});

server.listen(port, '0.0.0.0', () => console.log(`static site on :${port} serving ${root}`));
// Stop promptly when the platform stops the container (node ignores SIGTERM as PID 1 otherwise).
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 5000).unref(); });
