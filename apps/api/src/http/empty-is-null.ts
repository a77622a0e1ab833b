// Nullable text fields where "" means what null means (off, unset): JSON bodies keep their types
// (validators.ts), so such a field says it in its schema with emptyOrNull() (which /v1/openapi.json
// then shows), and its route stores what emptyToNull() makes of the body. A new field gets the same
// by being declared with emptyOrNull(); its route needs no list of fields. "" is never stored: an
// empty secret must not count as a secret that is set.
import { Type, type TObject, type TSchema } from '@sinclair/typebox';

// A symbol: invisible to ajv and to the OpenAPI document, kept by Type.Optional.
const EMPTY_IS_NULL = Symbol('empty is null');

/** The schema of a field that takes `value`, or "" or null, both meaning unset. */
export function emptyOrNull<T extends TSchema>(value: T) {
  const options: Record<symbol, true> = { [EMPTY_IS_NULL]: true };
  return Type.Union([value, Type.Literal(''), Type.Null()], options);
}

/** The body with null for "" in each field its schema declares with emptyOrNull(). */
export function emptyToNull<B extends object>(schema: TObject, body: B): B {
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [key, field] of Object.entries(schema.properties)) {
    if ((field as { [EMPTY_IS_NULL]?: true })[EMPTY_IS_NULL] && out[key] === '') out[key] = null;
  }
  return out as B;
}
