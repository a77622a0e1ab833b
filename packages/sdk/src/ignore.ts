// .gitignore / .dreamignore matching (the common subset: comments, negation, dir-only `/` suffix,
// anchoring, `*`, `**`, `?`, `[...]`). Pure: patterns in, a predicate out.
export interface Rule { re: RegExp; negate: boolean; dirOnly: boolean }

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` = any number of directories; `**` at the end = anything.
        if (glob[i + 2] === '/') { out += '(?:.*/)?'; i += 2; } else { out += '.*'; i += 1; }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) { out += '\\['; continue; }
      out += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) { out += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** Rules of one ignore file found in directory `base` ('' = root), matching paths relative to the root. */
export function parseIgnore(text: string, base = ''): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    // A slash at the start or middle anchors the pattern to its directory; otherwise it matches at any depth.
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const prefix = base ? `${base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/` : '';
    rules.push({ re: new RegExp(`^${prefix}${anchored ? '' : '(?:.*/)?'}${globToRegex(line)}$`), negate, dirOnly });
  }
  return rules;
}

/** Whether `rel` (a path relative to the root, `/`-separated) is ignored; last matching rule wins. */
export function ignored(rules: readonly Rule[], rel: string, isDir: boolean): boolean {
  let out = false;
  for (const r of rules) if ((!r.dirOnly || isDir) && r.re.test(rel)) out = !r.negate;
  return out;
}
