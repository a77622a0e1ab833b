// The reason a failed order shows in `dream domains`: readable, and never so long that the api
// refuses the proxy's whole status report (every name's status would then stay as it was).
import { describe, expect, it } from 'vitest';
import { MAX_REASON, readableReason, statusOf, type Entry } from './entry.js';

describe('readableReason', () => {
  it('an ACME problem detail stays as the CA wrote it', () => {
    const e = new Error('Non-200 status code from HTTP: http://www.example.test/.well-known/acme-challenge/x returned 404');
    expect(readableReason(e)).toBe(e.message);
  });

  it('an HTML error page (acme-client quotes the whole body) becomes its title', () => {
    const page = `<!DOCTYPE html>\n<html>\n<head><title>502 Bad  Gateway</title><style>${'x{}'.repeat(2000)}</style></head><body><h1>Bad Gateway</h1></body></html>`;
    const quoted = JSON.stringify(page).replace(/\n/g, ''); // as acme-client's formatResponseError does
    expect(readableReason(new Error(quoted))).toBe('the ACME server answered with a web page, not an ACME response: "502 Bad Gateway"');
    expect(readableReason(new Error('<html><body><h1>Service&nbsp;Unavailable</h1></body></html>'))).toBe('the ACME server answered with a web page, not an ACME response: "Service Unavailable"');
  });

  it('anything else long is cut, and so is the status a held-back name reports', () => {
    const long = readableReason(new Error('x'.repeat(10_000)));
    expect(long.length).toBe(MAX_REASON);
    expect(long.endsWith('…')).toBe(true);
    const e = { host: 'a.test', issuer: { id: 'x', name: 'x' }, state: 'failing', failures: 1, nextAttemptAt: 0, ariCheckAt: 0, error: 'y'.repeat(9000), waiting: 'z'.repeat(9000) } as unknown as Entry;
    expect(statusOf(e).error!.length).toBeLessThanOrEqual(2 * MAX_REASON);
  });
});
