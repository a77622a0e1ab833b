// @dreamnet/targets: where apps run. Every target implements Target from @dreamnet/core and passes
// the shared contract suite. That suite imports vitest, which throws outside the test runner, so it
// is exported from the subpath '@dreamnet/targets/contract', not from here.
export * from './docker-host/index.js';
export { FakeTarget, type FakeTargetOptions, type FakeExecHandler } from './fake/fake.js';
export type { ContractSetup } from './contract.js';
