// Which ajv validates which part of a request. Query strings, path params and headers are text, so
// their schemas convert ("?wait=30" → 30, a lone "?x=a" → ["a"]). A JSON body carries its own
// types: converting them hid client mistakes ({"replicas": "2"} scaled, {"name": true} made an app
// named "true", {"set": {"PORT": 8080}} stored "8080"), so body schemas convert nothing and a wrong
// type is VALIDATION_FAILED naming the field (errors.ts).
import AjvCompiler, { type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler } from 'fastify';

/** Options both ajv instances share: the fastify server's `ajv.customOptions`. */
export const AJV_OPTIONS = { removeAdditional: false, allErrors: false } as const;

// The pool's types say its compilers take a schema; fastify calls them with the route
// ({ schema, method, url, httpPart }), as @fastify/ajv-compiler's code reads it.
type Compiler = FastifySchemaCompiler<unknown>;
const asRouteCompiler = (c: ReturnType<BuildCompilerFromPool>) => c as unknown as Compiler;
const asPoolCompiler = (c: Compiler) => c as unknown as ReturnType<BuildCompilerFromPool>;

/**
 * A schemaController.compilersFactory.buildValidator: fastify's own compiler pool (its defaults,
 * formats, shared schemas and the server's `ajv` options) built twice, with and without coercion.
 * Fastify then counts the validator as custom, which only means a `headers` schema is not
 * lower-cased for us: write header names in lower case.
 */
export function partValidators(): BuildCompilerFromPool {
  const pool = AjvCompiler();
  return (externalSchemas, ajv = {}) => {
    const compiler = (coerceTypes: 'array' | false) =>
      asRouteCompiler(pool(externalSchemas, { ...ajv, customOptions: { ...ajv.customOptions, coerceTypes } } as typeof ajv));
    const text = compiler('array');
    const json = compiler(false);
    return asPoolCompiler((route) => (route.httpPart === 'body' ? json : text)(route));
  };
}
