// dockerClient() must leave ssh2 and gRPC unloaded, and still load them when they are called.
// In a child process: the test runner's own module cache may already hold dockerode.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const script = `
import { createRequire } from 'node:module';
import { dockerClient } from '@dreamnet/targets/dockerode';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/(ssh2|@grpc|protobufjs)\\//.test(k)).length;
const docker = dockerClient('/var/run/docker.sock');
const out = { socketPath: docker.modem.socketPath, hasListContainers: typeof docker.listContainers, before: loaded() };
const modem = require.resolve('docker-modem', { paths: [require.resolve('dockerode')] });
const sshAgent = require(modem.replace(/modem\\.js$/, 'ssh.js'))({ host: '127.0.0.1' });
out.agent = typeof sshAgent.createConnection;
out.after = loaded();
console.log(JSON.stringify(out));
`;

describe('dockerClient', () => {
  it('does not load ssh2 or gRPC until they are used, then loads the real ones', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ socketPath: '/var/run/docker.sock', hasListContainers: 'function', before: 0, agent: 'function', after: expect.any(Number) });
    expect(JSON.parse(stdout).after).toBeGreaterThan(0);
  });
});
