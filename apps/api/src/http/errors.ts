// The one place errors become HTTP: DreamError → its catalogued status; fastify's own errors
// (validation, body too large, bad JSON) → catalogued codes; anything else → INTERNAL, stack to the log.
import http from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { DreamError, ERRORS, isDreamError, type ErrorCode } from '@dreamnet/core';

export function errorBody(code: ErrorCode, message: string, requestId: string) {
  const statusCode = ERRORS[code].status;
  return { statusCode, code, error: http.STATUS_CODES[statusCode] ?? 'Error', message, requestId };
}

function translate(err: FastifyError): DreamError {
  if (isDreamError(err)) return err;
  if (err.validation) {
    const first = err.validation[0];
    const where = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return new DreamError('VALIDATION_FAILED', `Invalid ${where}: ${first?.message ?? err.message}.`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new DreamError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new DreamError('VALIDATION_FAILED', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new DreamError('VALIDATION_FAILED', 'Unsupported Content-Type; send application/json.');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new DreamError('VALIDATION_FAILED', err.message);
  return new DreamError('INTERNAL');
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = translate(err);
    if (e.code === 'INTERNAL') req.log.error({ err }, 'unhandled error');
    void reply.status(e.status).send(errorBody(e.code, e.message, req.id));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}. See /v1/openapi.json.`, req.id));
  });
}
