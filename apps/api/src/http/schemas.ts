// Request schemas: they validate requests and generate /v1/openapi.json, so the two cannot drift.
import { Type } from '@sinclair/typebox';
import { emptyOrNull } from './empty-is-null.js';

export const AppParams = Type.Object({ app: Type.String({ maxLength: 200, description: 'App name' }) });
export const AppDeploymentParams = Type.Object({ app: Type.String({ maxLength: 200 }), id: Type.String({ pattern: '^dep_[a-f0-9]{16}$' }) });
export const Branch = Type.String({ minLength: 1, maxLength: 200, description: 'Branch whose pushes deploy (default main)' });

export const CreateApp = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: 'App name: ^[a-z][a-z0-9-]{0,62}$' }),
  deployBranch: Type.Optional(Branch),
}, { additionalProperties: false });

export const PatchApp = Type.Object({
  deployBranch: Type.Optional(Branch),
  healthCheckPath: Type.Optional(emptyOrNull(Type.String({ pattern: '^/[A-Za-z0-9._~!$&\'()*+,;=:@/%?-]{0,200}$' }))),
  maxRequestBody: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], { description: 'Largest request body the proxy lets through to this app, in bytes (0: no limit; larger ones get 413 REQUEST_BODY_TOO_LARGE); null: the proxy\'s DREAM_PROXY_MAX_REQUEST_BODY' })),
  requestBuffering: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: 'Whether the proxy reads a request body whole before asking the app (false: streamed as it comes); null: the proxy\'s DREAM_PROXY_REQUEST_BUFFERING' })),
}, { additionalProperties: false });

export const PatchConfig = Type.Object({
  set: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 65536 }))),
  unset: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 })),
}, { additionalProperties: false });

export const Rollback = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export const Scale = Type.Object({ replicas: Type.Integer({ minimum: 1, maximum: 20 }) }, { additionalProperties: false });

export const RoutesPoll = Type.Object({
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })),
  proxy: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
});
export const RoutesLeave = Type.Object({ proxy: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) }, { additionalProperties: false });
export const RoutesAck = Type.Object({ proxy: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), version: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
