// What the proxy does with an app's request bodies: read whole first or streamed, and the largest
// let through. The app's own settings (PATCH /v1/apps/:app, carried on its route) come first, then
// the proxy's DREAM_PROXY_REQUEST_BUFFERING and DREAM_PROXY_MAX_REQUEST_BODY: an app taking large
// uploads, or streaming ones it reads as they come, need not change them for every app. Pure.
import type { Route } from './table.js';

/** Whether `route`'s request bodies are read whole before the app is asked (request-buffer.ts). */
export function buffers(ctx: { requestBuffering: boolean }, route: Route): boolean {
  return route.requestBuffering ?? ctx.requestBuffering;
}

/** The largest body `route`'s app is sent (Infinity: no limit). */
export function bodyLimit(ctx: { maxRequestBody: number }, route: Route): number {
  const max = route.maxRequestBody ?? ctx.maxRequestBody;
  return max > 0 ? max : Infinity;
}
