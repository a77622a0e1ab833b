// Where an upstream response head ends in the bytes read so far: at its CRLFCRLF. A head with a
// bare LF never has one, and is not HTTP/1.1 anyway (parseResponseHead refuses LFs inside lines):
// found here at once, or the exchange would wait for the CRLFCRLF for as long as the app keeps its
// connection open, and the endpoint would count that request in flight all along. Pure.
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** No end yet: read on. */
export const MORE = -1;
/** A line ends in a bare LF: the head will never end. */
export const BARE_LF = -2;

/** The index of the CRLFCRLF ending the head in `buf`, or MORE, or BARE_LF; `from`: where the bytes not looked at before start. */
export function responseHeadEnd(buf: Buffer, from: number): number {
  const end = buf.indexOf(CRLFCRLF);
  if (end >= 0) return end;
  for (let i = buf.indexOf(10, from); i >= 0; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return BARE_LF;
  return MORE;
}
