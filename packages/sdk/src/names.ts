// deployment-core project names ("My Site") → DreamNet app names. Pure. The rules (the allow-list and
// the names a new app may not take) are core's, imported, so the SDK cannot drift from what the api
// accepts.
import { APP_NAME, reservedAppName } from '@dreamnet/core/names';

export { APP_NAME };

/** Appended to a name the api reserves ("ns" → "ns-app"), as "app-" is put before one that does not start with a letter. */
const RESERVED_SUFFIX = '-app';

export function appName(projectName: string): string {
  let n = projectName.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(n)) n = n ? `app-${n}` : '';
  n = n.slice(0, 63).replace(/-+$/, '');
  if (!APP_NAME.test(n)) throw new Error(`Project name ${JSON.stringify(projectName)} has no letters or digits to make an app name from.`);
  // Same project name, same app name (rollback() and delete() derive it again), so no lookup here.
  if (reservedAppName(n)) n = `${n.slice(0, 63 - RESERVED_SUFFIX.length).replace(/-+$/, '')}${RESERVED_SUFFIX}`;
  return n;
}
