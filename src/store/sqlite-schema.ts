/**
 * The `responses_state` table as SQLite dialects see it — the SQLite store (better-sqlite3, bun:sqlite,
 * node:sqlite) and the D1 store share it, so a database moves between runtimes unchanged.
 */
export const CREATE_TABLE_SQL = `CREATE TABLE IF NOT EXISTS responses_state (
  response_id TEXT PRIMARY KEY NOT NULL,
  previous_response_id TEXT,
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  schema_version INTEGER NOT NULL,
  state_json TEXT NOT NULL
)`;

export const CREATE_INDEXES_SQL = [
  "CREATE INDEX IF NOT EXISTS ix_responses_state_created_at ON responses_state (created_at)",
  "CREATE INDEX IF NOT EXISTS ix_responses_state_expires_at ON responses_state (expires_at)",
];

/** Declared column types of the table above; anything else was created by another program. */
export const EXPECTED_COLUMNS: Record<string, string> = {
  response_id: "TEXT",
  previous_response_id: "TEXT",
  model: "TEXT",
  created_at: "INTEGER",
  expires_at: "INTEGER",
  schema_version: "INTEGER",
  state_json: "TEXT",
};

/** True when `PRAGMA table_info(responses_state)` rows describe exactly our table. */
export function hasExpectedColumns(rows: ReadonlyArray<{ name: string; type: unknown }>): boolean {
  const actual = Object.fromEntries(rows.map((r) => [r.name, String(r.type).toUpperCase()]));
  return rows.length === Object.keys(EXPECTED_COLUMNS).length && Object.entries(EXPECTED_COLUMNS).every(([name, type]) => actual[name] === type);
}
