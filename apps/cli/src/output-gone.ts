// When the reader of the CLI's output goes away (`dream apps | head -1`, `dream logs APP -f | head
// -3`), the next write to the pipe fails with EPIPE, emitted as an 'error' on process.stdout; with
// no listener node printed an uncaught-exception trace and exited 1, and a follow stream only ended
// that way. git, kubectl and docker die of SIGPIPE there (the shell sees 141) and say nothing. Node
// ignores SIGPIPE, so the CLI exits with that code itself. Servers do the opposite and keep running
// (core/stdio.ts keepRunningWithoutStdio): they serve others, a CLI only its reader.

/** What a shell reports for a process killed by SIGPIPE (128 + 13). */
export const OUTPUT_GONE = 141;

export function exitWhenOutputGone(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, exit: (code: number) => void): void {
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return exit(OUTPUT_GONE);
    // Output that cannot be written any more (EIO: the terminal is gone), still the end of the command.
    stderr.write(`Error: cannot write the output (${e.code ?? e.message}).\n`);
    exit(1);
  });
  // Nowhere left to tell about a failed error message: the exit code says it.
  stderr.on('error', () => {});
}
