// POST /v1/apps/:app/deployments: deploy an uploaded tar(.gz) through the same pipeline as git push.
// The archive is checked completely before a deployment exists; then the answer is 202 with the
// queued deployment (poll GET …/deployments/:id), or with ?wait=true the finished deployment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DreamError } from '@dreamnet/core';
import type { Deployment } from '../db/index.js';
import { AppParams } from '../http/schemas.js';
import type { Services } from '../services.js';
import { receiveArchive } from './check.js';

export const ARCHIVE_TYPES = ['application/x-tar', 'application/gzip', 'application/x-gzip', 'application/x-gtar'];
const UploadQuery = Type.Object({
  wait: Type.Optional(Type.Boolean({ description: 'Answer when the deployment has finished (200) instead of at once (202)' })),
  description: Type.Optional(Type.String({ maxLength: 200, description: 'Shown in the deployment and release list' })),
});

export function uploadRoutes(app: FastifyInstance, s: Services): void {
  // The body stays a stream (git hooks register x-tar the same way already).
  for (const ct of ARCHIVE_TYPES) if (!app.hasContentTypeParser(ct)) app.addContentTypeParser(ct, (_req, payload, done) => done(null, payload));

  app.post<{ Params: { app: string }; Querystring: { wait?: boolean; description?: string } }>('/v1/apps/:app/deployments', {
    schema: {
      tags: ['deployments'], summary: 'Deploy an uploaded source archive (tar or tar.gz body); Idempotency-Key header honoured',
      params: AppParams, querystring: UploadQuery,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
    },
  }, async (req, reply) => {
    const row = s.store.apps.get(req.params.app);
    const body = req.body as Readable | undefined;
    if (!body || typeof (body as Readable).pipe !== 'function') throw new DreamError('ARCHIVE_REJECTED', `Send the source as a tar or tar.gz body with Content-Type ${ARCHIVE_TYPES.slice(0, 2).join(' or ')}.`);
    const key = req.headers['idempotency-key'] as string | undefined;
    const tokenId = req.token!.id;
    if (key !== undefined) {
      const claim = s.store.idempotency.claim(tokenId, key, row.name);
      if (claim.kind === 'done') {
        body.resume(); // the retried body is not needed
        const dep = s.store.deployments.get(row.name, claim.deploymentId);
        return reply.status(200).header('idempotent-replay', 'true').send(dep);
      }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-upload-'));
    const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
    let checked;
    try {
      const gzip = /gzip/.test(String(req.headers['content-type'])) || req.headers['content-encoding'] === 'gzip';
      checked = await receiveArchive(body, dir, gzip, { maxBytes: s.config.maxUploadBytes, maxFiles: s.config.maxUploadFiles });
    } catch (e) {
      cleanup();
      if (key !== undefined) s.store.idempotency.release(tokenId, key);
      body.resume();
      throw e;
    }
    let queued: Deployment | undefined;
    const description = req.query.description ?? `Upload (${checked.entries} files) by token ${req.token!.name}`;
    const done = s.deployer.deploySource(row.name, {
      context: () => fs.createReadStream(checked.file),
      description,
      onQueued: (d) => {
        queued = d;
        if (key !== undefined) s.store.idempotency.complete(tokenId, key, d.id);
      },
    }).finally(cleanup);
    if (req.query.wait) return reply.status(200).send(await done);
    done.catch((err) => req.log.error({ err }, 'upload deployment failed'));
    return reply.status(202).header('location', `/v1/apps/${row.name}/deployments/${queued!.id}`).send(queued);
  });
}
