// A repository's Dockerfile may not reach other images on the engine: ids, id prefixes, variables,
// stage numbers that are not earlier stages, other apps' images. Public image names still build.
import { describe, expect, it } from 'vitest';
import { checkImageRefs, instructions } from './image-refs.js';

const refused = (text: string) => {
  try { checkImageRefs(text, 'web'); } catch (e) { return (e as Error).message; }
  return null;
};

describe('checkImageRefs', () => {
  it.each([
    'FROM 84503',
    'FROM 84503ab:latest',
    'FROM sha256:845037af296c',
    'from 845037af296cdeadbeef',
    'FROM --platform=linux/amd64 84503 AS x',
    'FROM dream-app/other:d-0123456789abcdef',
    'FROM docker.io/dream-app/other:d-1',
    'ARG IMG=84503\nFROM $IMG',
    'FROM ${IMG:-node:20}',
    'FROM node:20\nCOPY --from=84503 /app /stolen',
    'FROM node:20\nCOPY --from=dream-app/other:d-1 /app /stolen',
    'FROM node:20\nCOPY --from=1 /app /x', // no stage 1 before this one: looked up as an image
    'FROM node:20\nCOPY --from=0 /app /x', // its own stage is not an earlier one
    'FROM node:20\nADD --chown=1:1 --from=$X /a /b',
    'FROM node:20 \\\n  AS base\nFROM \\\n  84503',
    '# escape=`\nFROM node:20\nCOPY `\n  --from=84503 /a /b',
  ])('refuses %j', (text) => {
    expect(refused(text)).toMatch(/^Your Dockerfile was refused: /);
  });

  it.each([
    'FROM node:20\nRUN echo ok',
    'FROM node:20 AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /out',
    'FROM golang:1.22 AS b\nFROM debian:12\nCOPY --from=0 /x /x\nCOPY --from=B /y /y',
    'FROM dream-app/web:d-0123456789abcdef', // its own earlier image
    'FROM registry.example.com/team/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'FROM cafe-app/node:20', // hex-looking path parts are fine; only a bare id resolves by prefix
    '# a comment\nFROM node:20\n# COPY --from=84503 /a /b',
  ])('accepts %j', (text) => {
    expect(refused(text)).toBeNull();
  });

  it('joins continuation lines and skips comments inside them', () => {
    expect(instructions('FROM a \\\n# c\n  AS b\nRUN x')).toEqual(['FROM a    AS b', 'RUN x']);
  });
});
