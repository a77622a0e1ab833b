// History without a WebSocket: the same records as newline-delimited JSON, paged from disk and
// written only as fast as the client reads.
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { LogStore } from './store.js';
import type { LogRequest } from './query.js';
import { startCursor } from './tail.js';
import { matches, toMessage } from './record.js';

export async function writeNdjson(res: ServerResponse, store: LogStore, app: string, req: LogRequest): Promise<void> {
  const reader = store.log(app).reader(startCursor(store, app, req));
  const until = store.log(app).last;
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  try {
    for (let page = reader.next(1000); page.length > 0 && !res.destroyed; page = reader.next(1000)) {
      let chunk = '';
      for (const r of page) if (r.cursor <= until && matches(r, req.filter)) chunk += JSON.stringify(toMessage(r)) + '\n';
      if (chunk && !res.write(chunk)) await once(res, 'drain');
      if (page.at(-1)!.cursor >= until) break;
    }
  } finally {
    reader.close();
    res.end();
  }
}
