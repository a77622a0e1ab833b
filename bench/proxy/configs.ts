// Equivalent reverse-proxy configurations for the competitors: nginx and Caddy, each forwarding
// to the same upstream with upstream keep-alive, X-Forwarded-* set, no access log, plain HTTP on
// one port and HTTPS (HTTP/1.1 + h2 by ALPN, the same self-signed certificate) on another.
import path from 'node:path';

export interface Listen { http: number; https: number; upstream: number; cert: string; key: string; tmp: string }

export function nginxConf(l: Listen): string {
  const d = (n: string) => path.join(l.tmp, n);
  const location = `location / {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host;
    }`;
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes auto;
daemon off; pid ${d('nginx.pid')}; error_log ${d('nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d('body')}; proxy_temp_path ${d('proxy')}; fastcgi_temp_path ${d('fcgi')};
  uwsgi_temp_path ${d('uwsgi')}; scgi_temp_path ${d('scgi')};
  upstream app { server 127.0.0.1:${l.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${l.http}; ${location} }
  server {
    listen 127.0.0.1:${l.https} ssl http2;
    ssl_certificate ${l.cert}; ssl_certificate_key ${l.key}; ssl_session_cache shared:SSL:1m;
    ${location}
  }
}
`;
}

/** Caddy's native JSON config: admin API off, automatic HTTPS off, no logs. */
export function caddyConf(l: Listen): string {
  const route = { handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: `127.0.0.1:${l.upstream}` }] }] };
  return JSON.stringify({
    admin: { disabled: true },
    storage: { module: 'file_system', root: path.join(l.tmp, 'caddy-data') },
    apps: {
      http: {
        servers: {
          plain: { listen: [`127.0.0.1:${l.http}`], routes: [route], automatic_https: { disable: true } },
          tls: { listen: [`127.0.0.1:${l.https}`], routes: [route], tls_connection_policies: [{}], automatic_https: { disable: true } },
        },
      },
      tls: { certificates: { load_files: [{ certificate: l.cert, key: l.key }] } },
    },
  });
}
