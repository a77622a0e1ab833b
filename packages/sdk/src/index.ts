// @dreamnet/platform-sdk: a typed client of the DreamNet Platform API and the deployment-core provider.
export { DreamNetClient, DreamNetApiError, type ClientOptions, type PageParams } from './client.js';
export { DreamNetNativeProvider, BUILD_HINT_FILE, type DeploymentConfig, type DeploymentPlatform, type DeploymentProvider, type DeploymentResult, type ProviderOptions } from './provider.js';
export { ROUTES, routePath, type RouteName, type RouteSpec } from './routes.js';
export { packDirectory, listSource, ALWAYS_IGNORED } from './pack.js';
export { appName } from './names.js';
export type * from './types.js';
