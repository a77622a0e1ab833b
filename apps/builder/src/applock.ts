// One build at a time per app (the second waits for the first); different apps run concurrently.

export class AppLocks {
  private readonly tails = new Map<string, Promise<void>>();

  busy(app: string): boolean {
    return this.tails.has(app);
  }

  async run<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(app) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(app, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(app) === tail) this.tails.delete(app);
    }
  }
}
