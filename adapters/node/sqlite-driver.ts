/**
 * Node's SQLite driver for the store: better-sqlite3 (Node 20 has no `node:sqlite`). Its Database and Statement
 * already match the SqliteDriver shape; this file only opens the file and narrows the types.
 */
import Database from "better-sqlite3";
import { sqliteDriverFrom, type SqliteDatabaseLike, type SqliteDriver } from "../../src/store/sqlite-driver.js";

export function openSqliteDriver(path: string): SqliteDriver {
  return sqliteDriverFrom(new Database(path) as unknown as SqliteDatabaseLike);
}
