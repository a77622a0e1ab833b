// deployment-core project names ("My Site") → DreamNet app names (^[a-z][a-z0-9-]{0,62}$). Pure.
export const APP_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function appName(projectName: string): string {
  let n = projectName.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(n)) n = n ? `app-${n}` : '';
  n = n.slice(0, 63).replace(/-+$/, '');
  if (!APP_NAME.test(n)) throw new Error(`Project name ${JSON.stringify(projectName)} has no letters or digits to make an app name from.`);
  return n;
}
