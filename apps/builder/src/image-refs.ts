// Which images a repository's own Dockerfile may build from. The classic builder resolves `FROM x`
// and `COPY --from=x` against every image on the engine, and it also accepts a short image-ID prefix
// (`FROM 3fa9c` finds any local image whose id starts so). One app's Dockerfile could then start
// from, or copy files out of, another app's image — its source and whatever it baked in. So before
// the build we refuse: ID-like references, variables in these references (an ARG could spell an id),
// stage numbers that are not an earlier stage (an unknown number is looked up as an image), and
// other apps' `dream-app/<name>` images. Names of public images (node:20, python:3.12…) still work.
// Pure: Dockerfile text in, a DreamError out when it is refused.
import { DreamError } from '@dreamnet/core';
import { imageRepo } from './prune.js';

const refuse = (why: string) => new DreamError('BUILD_FAILED', `Your Dockerfile was refused: ${why}`);

/** Logical instructions: parser directives, comments and line continuations handled as docker does. */
export function instructions(text: string): string[] {
  const lines = text.split(/\r?\n/);
  let escape = '\\';
  // Parser directives are `# key=value` lines before anything else; only `escape` changes parsing.
  for (const line of lines) {
    const m = /^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  const out: string[] = [];
  let current = '';
  for (const raw of lines) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === '')) continue; // comments, even inside a continuation
    const right = raw.replace(/\s+$/, '');
    if (right.endsWith(escape)) { current += right.slice(0, -1) + ' '; continue; }
    current += raw;
    if (current.trim()) out.push(current.trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** A reference the engine could resolve to a local image that is not this app's to use, or null. */
function badImage(ref: string, app: string): string | null {
  if (ref.includes('$')) return `"${ref}" uses a variable; name the image literally.`;
  const lower = ref.toLowerCase();
  const name = lower.split('@')[0]!.replace(/:[^/]*$/, ''); // without the digest and the tag
  if (/^(sha256:)?[0-9a-f]+$/.test(name) || lower.startsWith('sha256:')) return `"${ref}" looks like an image id; name an image (like node:20) instead.`;
  const repo = name.replace(/^(docker\.io|index\.docker\.io)\//, '');
  if (repo.startsWith('dream-app/') && repo !== imageRepo(app)) return `"${ref}" is another app's image.`;
  return null;
}

export function checkImageRefs(dockerfile: string, app: string): void {
  const stages: string[] = [];
  for (const ins of instructions(dockerfile)) {
    const [word = '', ...args] = ins.split(/\s+/);
    const kw = word.toUpperCase();
    if (kw === 'FROM') {
      const rest = args.filter((a) => !a.startsWith('--'));
      const ref = rest[0];
      if (!ref) throw refuse('a FROM line names no image.');
      const isStage = stages.includes(ref.toLowerCase()) || ref.toLowerCase() === 'scratch';
      const why = isStage ? null : badImage(ref, app);
      if (why) throw refuse(`FROM ${why}`);
      stages.push(rest[1]?.toUpperCase() === 'AS' && rest[2] ? rest[2].toLowerCase() : `#${stages.length}`);
    } else if (kw === 'COPY' || kw === 'ADD') {
      for (const a of args) {
        const m = /^--from=(.*)$/i.exec(a);
        if (!m) continue;
        const from = m[1]!.replace(/^["']|["']$/g, '');
        if (/^\d+$/.test(from)) {
          // A number names an earlier stage; one that is not is looked up as an image id.
          if (Number(from) >= stages.length - 1 || stages.length === 0) throw refuse(`${kw} --from=${from} is not an earlier build stage.`);
          continue;
        }
        if (stages.includes(from.toLowerCase())) continue;
        const why = badImage(from, app);
        if (why) throw refuse(`${kw} --from=${why}`);
      }
    }
  }
}
