import { describe, expect, it } from 'vitest';
import { healthUrl, isHealthyStatus, readLabels, replicaState } from './state.js';
import { decodeAll, FrameDecoder, LineSplitter, splitTimestamp } from './frames.js';

const st = (o: Partial<{ Status: string; Running: boolean; Restarting: boolean; ExitCode: number }>) =>
  ({ Status: 'running', Running: false, Restarting: false, ExitCode: 0, ...o });

describe('replicaState', () => {
  it('maps Docker states', () => {
    expect(replicaState(st({ Running: true }), 0)).toBe('running');
    expect(replicaState(st({ Status: 'created' }), 0)).toBe('starting');
    expect(replicaState(st({ Status: 'exited', ExitCode: 0 }), 0)).toBe('exited');
    expect(replicaState(st({ Status: 'restarting', Restarting: true }), 1)).toBe('restarting');
  });
  it('calls it a crash loop once Docker used up its retries', () => {
    expect(replicaState(st({ Status: 'exited', ExitCode: 1 }), 3)).toBe('crash-loop');
    expect(replicaState(st({ Status: 'restarting', Restarting: true }), 3)).toBe('crash-loop');
    expect(replicaState(st({ Status: 'exited', ExitCode: 1 }), 1)).toBe('exited');
  });
});

describe('labels and health', () => {
  it('reads only managed, complete labels', () => {
    const l = { 'dev.dreamnet.managed': 'true', 'dev.dreamnet.app': 'a', 'dev.dreamnet.release': 'r1', 'dev.dreamnet.replica': '2', 'dev.dreamnet.port': '5000', 'dev.dreamnet.version': '4' };
    expect(readLabels(l)).toEqual({ app: 'a', releaseId: 'r1', replica: 2, port: 5000, version: 4 });
    expect(readLabels({ ...l, 'dev.dreamnet.managed': 'false' })).toBeNull();
    expect(readLabels({ ...l, 'dev.dreamnet.replica': 'x' })).toBeNull();
  });
  it('judges HTTP status by whether a path was given', () => {
    expect(isHealthyStatus(404, null)).toBe(true);
    expect(isHealthyStatus(502, null)).toBe(false);
    expect(isHealthyStatus(404, '/health')).toBe(false);
    expect(isHealthyStatus(302, '/health')).toBe(true);
    expect(healthUrl('172.18.0.2', 5000, null)).toBe('http://172.18.0.2:5000/');
    expect(healthUrl('172.18.0.2', 5000, 'up')).toBe('http://172.18.0.2:5000/up');
  });
});

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

describe('frames', () => {
  it('decodes frames split across chunks', () => {
    const all = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n')]);
    const d = new FrameDecoder();
    const got = [...d.push(all.subarray(0, 5)), ...d.push(all.subarray(5, 17)), ...d.push(all.subarray(17))];
    expect(got.map((f) => [f.stream, f.payload.toString()])).toEqual([['stdout', 'hello\n'], ['stderr', 'oops\n']]);
  });
  it('splits lines and keeps partial ones for later', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.push('c\r\nd')).toEqual(['bc']);
    expect(s.flush()).toEqual(['d']);
  });
  it('decodes a whole buffer and strips timestamps', () => {
    const buf = Buffer.concat([frame(1, '2024-05-01T10:00:00.123456789Z hi\n'), frame(2, 'no newline')]);
    expect(decodeAll(buf)).toEqual([
      { stream: 'stdout', line: '2024-05-01T10:00:00.123456789Z hi' },
      { stream: 'stderr', line: 'no newline' },
    ]);
    expect(splitTimestamp('2024-05-01T10:00:00.123456789Z hi there')).toEqual({ at: '2024-05-01T10:00:00.123456789Z', line: 'hi there' });
  });
});
