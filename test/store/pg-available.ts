import pg from "pg";
import { openDb, type Db } from "../../src/store/db.js";

/** The test PostgreSQL URL when a server answers there, else undefined (that half is then skipped, with a message). */
export async function postgresUrl(): Promise<string | undefined> {
  const url = process.env.SWITCHBOARD_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return url;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The two stores every budget test runs on: embedded PGlite always, PostgreSQL when it answers. */
export function storeBackends(pgUrl: string | undefined): Array<[string, () => Promise<Db>, boolean]> {
  return [
    ["pglite", () => openDb({ dataDir: ":memory:" }), true],
    ["postgres", () => openDb({ databaseUrl: pgUrl! }), !!pgUrl],
  ];
}
