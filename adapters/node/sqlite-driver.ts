/**
 * Node's SQLite driver for the store: better-sqlite3 (Node 20 has no `node:sqlite`). Its Database and Statement
 * already match the SqliteDriver shape; this file only opens the file and narrows the types.
 */
import Database from "better-sqlite3";
import type { SqliteDriver, SqliteValue } from "../../src/store/sqlite-driver.js";

export function openSqliteDriver(path: string): SqliteDriver {
  const db = new Database(path);
  return {
    exec: (sql) => {
      db.exec(sql);
    },
    prepare: (sql) => {
      const statement = db.prepare<SqliteValue[]>(sql);
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
