/**
 * Shares one in-flight read among identical concurrent callers. When 1,000
 * dashboards reconnect at once, each replaying the same tree from the same cursor,
 * the database answers once instead of 1,000 times, one after the other.
 *
 * Only for reads that any caller may see from a moment during its own wait: stored
 * events (append-only: a read is a valid prefix whenever it ran) and counts read
 * again by whoever needs a fresher one. Nothing is kept once the read settles.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, read: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}
