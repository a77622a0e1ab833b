// Files this process holds open under a directory (deleted ones included), read off /proc/self/fd:
// how the request-buffering tests see that a body's file was let go (it has no name to look for).
import fs from 'node:fs';

export function openFilesUnder(dir: string): string[] {
  return fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } }).filter((l) => l.startsWith(dir));
}
