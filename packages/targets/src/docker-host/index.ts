export { DockerHostTarget, type DockerHostOptions, type TargetLog } from './target.js';
export * from './spec.js';
export { replicaState, readLabels, isHealthyStatus, healthUrl } from './state.js';
