import { describe, expect, it } from 'vitest';
import { pages, rawPage } from './pages.js';

describe('rawPage', () => {
  const page = pages.noRoute('nope.dream', 'req-12345678', { accept: 'application/json' });

  it('writes a status line, headers and the body', () => {
    const raw = rawPage(page, 'GET', false);
    const [head, body] = raw.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    expect(head).toContain('\r\nx-dream-error: NO_ROUTE');
    expect(head).not.toContain('connection:');
    expect(JSON.parse(body!)).toMatchObject({ statusCode: 404, code: 'NO_ROUTE', requestId: 'req-12345678' });
  });

  it('says connection: close when closing and leaves the body out for HEAD', () => {
    const raw = rawPage(page, 'HEAD', true);
    expect(raw.endsWith('\r\nconnection: close\r\n\r\n')).toBe(true);
    expect(raw).toContain(`content-length: ${Buffer.byteLength(page.body)}`);
  });
});
