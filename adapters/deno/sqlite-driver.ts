/**
 * Deno's SQLite driver for the store: `node:sqlite` (`DatabaseSync`), built into Deno. Its synchronous API has the
 * SqliteDriver shape already; this file only opens the file and narrows the types.
 *
 * Loaded with a computed specifier because the project's type-check uses Node 20's types, which have no
 * `node:sqlite` (Node added it in 22); the runtime module is Deno's own implementation.
 */
import { sqliteDriverFrom, type SqliteDriver, type SqliteValue } from "../../src/store/sqlite-driver.js";

interface NodeSqliteStatement {
  run(...params: SqliteValue[]): { changes: number | bigint };
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
}

interface NodeSqliteModule {
  DatabaseSync: new (path: string) => {
    exec(sql: string): void;
    prepare(sql: string): NodeSqliteStatement;
    close(): void;
  };
}

export async function loadNodeSqliteDriver(): Promise<(path: string) => SqliteDriver> {
  const specifier = "node:sqlite";
  const { DatabaseSync } = (await import(specifier)) as NodeSqliteModule;
  return (path) => sqliteDriverFrom(new DatabaseSync(path));
}
