/**
 * The one raw-SQL port of the storage layer. PostgreSQL (a `pg` pool) and embedded
 * PGlite implement it, so the hot-path SQL modules under src/storage/sql/ run
 * unchanged on both. Parameters are positional ($1, $2, ...); JSON goes in as text
 * with an explicit `::jsonb` cast, arrays as JS arrays with an explicit cast
 * (`$1::text[]`). int8 columns may come back as string (pg) or number (PGlite):
 * convert with Number() at the edge.
 */
export interface SqlQueryable {
  /**
   * Runs one statement. Outside `transaction` it is its own transaction
   * (autocommit); on PostgreSQL a deadlock or serialization failure retries it.
   */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Sql extends SqlQueryable {
  /** "postgres" for a server, "pglite" for the embedded database (one connection). */
  readonly dialect: "postgres" | "pglite";
  /**
   * Runs `fn` in one transaction on one connection; commits when it resolves, rolls
   * back when it throws. On PostgreSQL a deadlock or serialization failure retries
   * the whole function a few times.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * LISTENs on `channel` (PostgreSQL: on a dedicated connection, re-opened after a
   * failure, calling `onReconnect` so the caller can catch up on what it missed).
   * Returns a function that stops listening.
   */
  listen(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
