/**
 * The minimal synchronous SQLite surface the store needs. better-sqlite3 (Node), `bun:sqlite` (Bun) and
 * `node:sqlite` (Deno, Node ≥ 22) all satisfy it with a thin wrapper, so `src/` never imports a driver.
 */

/** Values every one of those drivers binds natively. */
export type SqliteValue = string | number | bigint | null | Uint8Array;

export interface SqliteStatement {
  /** Executes a write; `changes` is the number of rows it touched. */
  run(...params: SqliteValue[]): { changes: number | bigint };
  /** The first row as a column-name keyed object; `undefined` (better-sqlite3, node:sqlite) or `null` (Bun) when none. */
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
}

export interface SqliteDriver {
  /** Runs one or more statements, ignoring any rows. */
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

/**
 * Whether an error is SQLite's SQLITE_BUSY / SQLITE_LOCKED, recognised across drivers: better-sqlite3 and Bun
 * set a string `code` (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT` …); node:sqlite sets a numeric `errcode`; Bun also
 * sets `errno`. Extended result codes keep the primary code in their low byte (5 = BUSY, 6 = LOCKED).
 */
export function isSqliteBusyError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown; errno?: unknown };
  if (typeof e.code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(e.code)) return true;
  for (const n of [e.errcode, e.errno]) {
    if (typeof n === "number" && n > 0 && ((n & 0xff) === 5 || (n & 0xff) === 6)) return true;
  }
  return false;
}

/** What better-sqlite3, `bun:sqlite` and `node:sqlite` databases have in common, loosely typed. */
export interface SqliteDatabaseLike {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...params: SqliteValue[]): { changes: number | bigint };
    get(...params: SqliteValue[]): unknown;
    all(...params: SqliteValue[]): unknown[];
  };
  close(): unknown;
}

/** The one adapter from a driver's database object to SqliteDriver, used by every runtime's driver file. */
export function sqliteDriverFrom(db: SqliteDatabaseLike): SqliteDriver {
  return {
    exec: (sql) => {
      db.exec(sql);
    },
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        run: (...params) => statement.run(...params),
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
      };
    },
    close: () => {
      db.close();
    },
  };
}
