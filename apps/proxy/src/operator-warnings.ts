// What the proxy warns its operator about while it keeps serving, by code (docs/errors.md § The
// proxy while running; a test holds them equal): conditions only the operator can fix, logged as a
// `warn` line with the code in `code`, once and then rarely, never once per request.
export const PROXY_WARNINGS = {
  ACCEPT_FAILED: 'The kernel refused to accept a new connection (ENOBUFS, ENOMEM, EPERM…): that client got no answer; the proxy keeps listening (accept-errors.ts).',
  FD_LIMIT_REACHED: 'This process has no file descriptor left: new connections are closed at once (fd-limit.ts).',
  DNS_UDP_FAILED: 'The kernel refused to receive or send a .dream DNS packet over UDP (ENOBUFS, ENOMEM, EPERM…): that query got no answer; the DNS server keeps serving (dns/server.ts).',
  ACCESS_LOG_DROPPED: 'The reader of stdout is not keeping up with the access log: lines beyond its 16 MB buffer are dropped until it reads again (access-log.ts).',
  H2_RAPID_RESET: 'An HTTP/2 client reset more than 256 streams before their answers within 10 s (rapid reset, CVE-2023-44487): its connection was closed with GOAWAY ENHANCE_YOUR_CALM (h2-resets.ts).',
  H2_FRAME_FLOOD: 'An HTTP/2 client sent far more frames than its requests need (PRIORITY/WINDOW_UPDATE floods): its connection was closed with GOAWAY ENHANCE_YOUR_CALM (h2-frame-flood.ts).',
} as const;
export type ProxyWarningCode = keyof typeof PROXY_WARNINGS;
