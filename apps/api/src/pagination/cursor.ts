// Cursor pagination for every list: `?limit=&cursor=` in, `{ items, nextCursor }` out. A cursor is
// an opaque base64url of the last item's sort key, so pages stay stable while rows are added.
import { Type } from '@sinclair/typebox';
import { DreamError } from '@dreamnet/core';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: `Page size (default ${DEFAULT_LIMIT})` })),
  cursor: Type.Optional(Type.String({ maxLength: 400, pattern: '^[A-Za-z0-9_-]*$', description: 'nextCursor of the previous page' })),
});
export interface PageParams { limit?: number; cursor?: string }
export interface Page<T> { items: T[]; nextCursor: string | null }

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key in a cursor; a cursor that was not made by us is a validation error. */
export function decodeCursor<K extends string | number>(cursor: string | undefined, kind: 'string' | 'number'): K | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof v === kind) return v as K;
  } catch { /* fall through */ }
  throw new DreamError('VALIDATION_FAILED', 'Invalid query cursor: pass the nextCursor of a previous page unchanged.');
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says whether there is more. */
export function toPage<R, T>(rows: R[], limit: number, key: (r: R) => string | number, present: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(present), nextCursor: more && kept.length ? encodeCursor(key(kept[kept.length - 1]!)) : null };
}

export const limitOf = (p: PageParams) => p.limit ?? DEFAULT_LIMIT;
