// Pure: for an api error code, the next thing the user should try. `app` is the app the command was
// about, so hints can be copied and pasted as they are.
import { RESERVED_APP_NAMES } from '@dreamnet/core/names';

// core's one list of reserved app names, so this hint names what the api refuses.
const reserved = Object.keys(RESERVED_APP_NAMES).map((n) => `\`${n}\``);
const RESERVED = `${reserved.join(', ')} ${reserved.length === 1 ? 'is' : 'are'}`;

export interface HintContext {
  app?: string;
  command?: string;
}

export function hintFor(code: string, ctx: HintContext = {}): string | undefined {
  const app = ctx.app ?? 'APP';
  switch (code) {
    case 'UNAUTHENTICATED': return 'Log in again with `dream login --token <token>` (or set DREAM_TOKEN).';
    case 'FORBIDDEN': return 'This token lacks the scope for that. Check it with `dream whoami`, or log in with an admin token.';
    case 'APP_NOT_FOUND': return 'List your apps with `dream apps`.';
    case 'APP_EXISTS': return `Pick another name, or look at the existing one with \`dream apps info ${app}\`.`;
    case 'INVALID_APP_NAME': return `Use lowercase letters, digits and dashes, starting with a letter, e.g. \`my-app\` (${RESERVED} reserved).`;
    case 'INVALID_CONFIG_KEY': return 'Use upper-case keys like `DATABASE_URL=...`.';
    case 'INVALID_REF': return 'Use a plain branch name such as `main` or `production`.';
    case 'VALIDATION_FAILED': return `Check the arguments with \`dream help${ctx.command ? ` ${ctx.command}` : ''}\`.`;
    case 'RELEASE_NOT_FOUND': return `List releases with \`dream releases ${app}\`.`;
    case 'DEPLOYMENT_NOT_FOUND': return `List deployments with \`dream deployments ${app}\`.`;
    case 'NO_RELEASE': return 'Push code first: `git push dream main`.';
    case 'DEPLOY_IN_PROGRESS': return `Watch it with \`dream deployments ${app}\`, then try again.`;
    case 'BUILD_FAILED':
    case 'HEALTH_CHECK_FAILED':
    case 'DEPLOY_FAILED': return `See what happened with \`dream deployments ${app}\` and \`dream deployments info ${app} ID\`.`;
    case 'BUILDER_UNAVAILABLE': return 'Start the platform with `npm start` (it runs the builder too).';
    case 'TARGET_UNAVAILABLE': return 'Check that the Docker engine is running (`docker info`).';
    case 'BODY_TOO_LARGE': return 'Send less at once, e.g. set fewer config values per command.';
    case 'NOT_FOUND': return 'This api does not know that route; the CLI and the api may be different versions.';
    case 'INTERNAL': return 'Retry; if it keeps failing, look up the request id in the api log.';
    default: return undefined;
  }
}
