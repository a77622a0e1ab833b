// Parses the Docker engine's JSON build stream (`{"stream":…}`, `{"status":…}`, `{"aux":{"ID":…}}`,
// `{"error":…,"errorDetail":…}`) into whole output lines as they arrive. Pure: feed it text chunks.

export class BuildOutput {
  private json = '';
  private text = '';
  /** The last "Step N/M : …" line seen, to say where a build failed. */
  lastStep: string | null = null;
  imageId: string | null = null;
  error: string | null = null;

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds raw bytes of the engine's response (any chunking). */
  push(chunk: string): void {
    this.json += chunk;
    let nl: number;
    while ((nl = this.json.indexOf('\n')) >= 0) {
      const raw = this.json.slice(0, nl).trim();
      this.json = this.json.slice(nl + 1);
      if (raw) this.message(raw);
    }
  }

  /** Flushes whatever is buffered once the engine's response ends. */
  end(): void {
    const raw = this.json.trim();
    this.json = '';
    if (raw) this.message(raw);
    if (this.text) { this.emit(this.text); this.text = ''; }
  }

  private message(raw: string): void {
    let m: { stream?: unknown; status?: unknown; id?: unknown; progress?: unknown; error?: unknown; errorDetail?: { message?: unknown }; aux?: { ID?: unknown } };
    try { m = JSON.parse(raw); } catch { this.emit(raw); return; }
    if (typeof m.aux?.ID === 'string') this.imageId = m.aux.ID;
    if (typeof m.stream === 'string') this.streamText(m.stream);
    if (typeof m.status === 'string') {
      // Pull progress: report each layer's state changes, not every progress-bar tick.
      if (m.progress === undefined) this.emit(typeof m.id === 'string' ? `${m.id}: ${m.status}` : m.status);
    }
    const err = typeof m.errorDetail?.message === 'string' ? m.errorDetail.message : typeof m.error === 'string' ? m.error : null;
    if (err !== null) {
      if (this.text) { this.emit(this.text); this.text = ''; }
      this.error = err;
      this.emit(`ERROR: ${err}`);
    }
  }

  private streamText(s: string): void {
    this.text += s;
    let nl: number;
    while ((nl = this.text.indexOf('\n')) >= 0) {
      this.emit(this.text.slice(0, nl).replace(/\r$/, ''));
      this.text = this.text.slice(nl + 1);
    }
  }

  private emit(line: string): void {
    if (/^Step \d+\/\d+ : /.test(line)) this.lastStep = line;
    this.onLine(line);
  }

  /** A sentence for the user: which step failed and the engine's error. */
  failure(): string {
    const err = this.error ?? 'the Docker engine reported no image';
    return this.lastStep ? `${this.lastStep} failed: ${err}` : `The build failed: ${err}`;
  }
}
