import { describe, expect, it } from 'vitest';
import { parseProcfile } from './procfile.js';

describe('parseProcfile', () => {
  it('reads name: command lines', () => {
    expect(parseProcfile('web: node a.js\nworker:  node w.js  \n')).toEqual({ web: 'node a.js', worker: 'node w.js' });
  });
  it('skips comments, blank lines and junk', () => {
    expect(parseProcfile('# hi\n\n  \nnot a line\nweb: x\n')).toEqual({ web: 'x' });
  });
  it('handles CRLF and colons inside the command', () => {
    expect(parseProcfile('web: gunicorn a:b --bind 0.0.0.0:$PORT\r\n')).toEqual({ web: 'gunicorn a:b --bind 0.0.0.0:$PORT' });
  });
  it('first definition wins', () => {
    expect(parseProcfile('web: a\nweb: b\n')).toEqual({ web: 'a' });
  });
  it('an empty command is not a process', () => {
    expect(parseProcfile('web:\n')).toEqual({});
  });
});
