// Admin routes (scope admin): GET /v1/admin/backup streams one tar.gz archive; POST /v1/admin/restore
// takes one (Content-Type application/gzip) and restores it into this install.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { discardBackup } from './backup.js';
import { engineImageExists } from './rebuild.js';
import { backup, restore } from './service.js';

export const KEY_WARNING = 'This backup does not contain the encryption key. Keep data/encryption.key safe and apart: without it, config values in the backup cannot be restored.';

export function adminRoutes(app: FastifyInstance, s: Services): void {
  const imageExists = engineImageExists(s.config);
  app.get<{ Querystring: { withoutKey?: boolean } }>('/v1/admin/backup', {
    schema: { tags: ['admin'], summary: 'Download a backup archive (database snapshot, keys, certificates, git repositories)', querystring: { type: 'object', properties: { withoutKey: { type: 'boolean' } }, additionalProperties: false } },
    config: { scope: 'admin' },
  }, async (req, reply) => {
    const includeKey = !req.query.withoutKey;
    const { file, manifest } = await backup(s, includeKey);
    const stream = fs.createReadStream(file);
    stream.on('close', () => discardBackup(file));
    void reply.header('content-type', 'application/gzip');
    void reply.header('content-disposition', `attachment; filename="dreamnet-backup-${manifest.createdAt.replace(/[:.]/g, '-')}.tar.gz"`);
    void reply.header('x-dream-backup-schema', String(manifest.schemaVersion));
    void reply.header('x-dream-backup-files', String(manifest.files.length));
    if (!includeKey) void reply.header('x-dream-backup-warning', KEY_WARNING);
    return reply.send(stream);
  });

  app.register(async (scope) => {
    // The archive arrives as a stream; it is verified while it is read, never buffered whole.
    // (Another route may have registered the same raw parser already; it does the same.)
    for (const type of ['application/gzip', 'application/octet-stream']) {
      if (!scope.hasContentTypeParser(type)) scope.addContentTypeParser(type, (_req, payload, done) => done(null, payload));
    }
    scope.post<{ Querystring: { force?: boolean }; Body: Readable }>('/v1/admin/restore', {
      schema: { tags: ['admin'], summary: 'Restore a backup archive into this install (fresh installs only unless force)', querystring: { type: 'object', properties: { force: { type: 'boolean' } }, additionalProperties: false } },
      config: { scope: 'admin' },
      bodyLimit: 64 * 1024 ** 3,
    }, async (req) => {
      const key = req.headers['x-dream-encryption-key'];
      return restore(s, req.body, { force: req.query.force === true, key: typeof key === 'string' ? key : undefined, imageExists });
    });
  });
}
