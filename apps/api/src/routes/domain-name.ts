// Pure: is this a name we may order a certificate for and route to an app? Rejects before anything
// is stored or ordered: uppercase, wildcards, empty labels (`..`), over 253 characters, IP literals,
// bad labels, and names the platform hands out itself (`.dream`, `<app>.<DREAM_DOMAIN>`).
import net from 'node:net';
import { DreamError } from '@dreamnet/core';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkDomain(host: string, platformDomain: string, appOf: (dreamName: string) => string | undefined, app: string): string {
  const bad = (why: string) => new DreamError('DOMAIN_INVALID', `${JSON.stringify(host.slice(0, 80))} is not a domain we can serve: ${why}.`);
  if (typeof host !== 'string' || host.length === 0) throw bad('it is empty');
  if (host.length > 253) throw bad(`it has ${host.length} characters; at most 253 are allowed`);
  if (host !== host.toLowerCase()) throw bad(`use lowercase (${host.toLowerCase()})`);
  if (host.includes('*')) throw bad('wildcards are not supported for custom domains');
  if (net.isIP(host) || net.isIP(host.replace(/^\[|\]$/g, ''))) throw bad('IP addresses cannot have certificates here; use a name');
  if (host.includes('..') || host.startsWith('.') || host.endsWith('.')) throw bad('it has an empty label (`..`, or a leading/trailing dot)');
  const labels = host.split('.');
  if (labels.length < 2) throw bad('use a full name like www.example.com');
  const wrong = labels.find((l) => !LABEL.test(l));
  if (wrong !== undefined) throw bad(`the label ${JSON.stringify(wrong.slice(0, 70))} must be 1-63 of a-z, 0-9 and inner hyphens`);
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) throw bad('the last label cannot be all digits (that reads as an IP address)');
  if (host === 'dream' || host.endsWith('.dream')) {
    const owner = appOf(host);
    if (owner && owner !== app) throw new DreamError('DOMAIN_TAKEN', `${host} is the automatic name of the app ${owner}.`);
    throw new DreamError('DOMAIN_RESERVED', `Names under .dream are given to apps automatically; ${app} is already served at ${app}.dream.`);
  }
  if (platformDomain && (host === platformDomain || host.endsWith(`.${platformDomain}`))) {
    throw new DreamError('DOMAIN_RESERVED', `Names under ${platformDomain} (DREAM_DOMAIN) are given to apps automatically; ${app} is already served at ${app}.${platformDomain}.`);
  }
  return host;
}
