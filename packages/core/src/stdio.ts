// A process whose stdout or stderr reader is gone (`npm start | head` ended, a log shipper
// restarting, a broken docker log driver) gets EPIPE on its next write, emitted as an 'error' on
// process.stdout/stderr; with no listener that ends the process with every connection it serves.
// pino's destinations already drop writes after EPIPE; console.log (the api's first-start token
// banner, start.ts's prefixed child output) does not. Output that has nowhere to go is lost
// either way, so a server keeps serving.
export function keepRunningWithoutStdio(streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  for (const s of streams) s.on('error', () => {});
}
