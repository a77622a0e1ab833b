// `dream run` / shell: a process inside a running replica, argv only (no shell unless the user's argv
// names one). Non-tty output arrives multiplexed; it is demuxed into one output stream.
import type Dockerode from 'dockerode';
import { PassThrough, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecSession } from '@dreamnet/core';
import { FrameDecoder } from './frames.js';

export async function startExec(container: Dockerode.Container, cmd: string[], tty: boolean): Promise<ExecSession> {
  const exec = await container.exec({
    Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty,
    ...(tty ? { Env: ['TERM=xterm-256color'] } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: tty })) as Duplex;
  const output = new PassThrough();
  if (tty) {
    stream.pipe(output);
  } else {
    const frames = new FrameDecoder();
    stream.on('data', (chunk: Buffer) => { for (const f of frames.push(chunk)) output.write(f.payload); });
    stream.on('end', () => output.end());
  }
  stream.on('error', (e) => output.destroy(e));
  const exit = new Promise<number>((resolve, reject) => {
    stream.on('close', () => { exitCode(exec).then(resolve, reject); });
  });
  return {
    output,
    input: stream,
    resize: async (cols, rows) => { if (tty) await exec.resize({ w: cols, h: rows }); },
    exit,
  };
}

/** Docker may report Running for a moment after the stream closed; ask again briefly. */
async function exitCode(exec: Dockerode.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await sleep(50);
  }
  return -1;
}
