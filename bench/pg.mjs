// The benchmarks' PostgreSQL: SWITCHBOARD_TEST_DATABASE_URL (or DATABASE_URL), the local test database by default.
import pg from "pg";

/** The URL when a PostgreSQL answers there, else undefined (the section that needs it says so and skips). */
export async function reachablePgUrl() {
  const url = process.env.SWITCHBOARD_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return url;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}
