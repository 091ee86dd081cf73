/**
 * Bun's SQLite driver for the store: `bun:sqlite`, built into Bun. Its synchronous Database/Statement API has the
 * SqliteDriver shape already (`get` answers `null` rather than `undefined` for no row, which the store accepts).
 *
 * Loaded with a computed specifier because the project type-checks with Node's types, where `bun:sqlite` does not
 * exist.
 */
import { sqliteDriverFrom, type SqliteDriver, type SqliteValue } from "../../src/store/sqlite-driver.js";

interface BunSqliteStatement {
  run(...params: SqliteValue[]): { changes: number };
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
}

interface BunSqliteModule {
  Database: new (path: string, options: { create: boolean; readwrite: boolean }) => {
    exec(sql: string): void;
    prepare(sql: string): BunSqliteStatement;
    close(): void;
  };
}

export async function loadBunSqliteDriver(): Promise<(path: string) => SqliteDriver> {
  const specifier = "bun:sqlite";
  const { Database } = (await import(specifier)) as BunSqliteModule;
  return (path) => sqliteDriverFrom(new Database(path, { create: true, readwrite: true }));
}
