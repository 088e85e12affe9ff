/**
 * The store's schema, one migration per entry, applied in order and never edited once shipped:
 * add a new entry instead. The same SQL runs on PGlite and PostgreSQL. Statements end with
 * a semicolon at the end of a line; `--` comments are allowed.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE sb_spend (
    scope text NOT NULL,            -- 'tenant:<name>' or 'global'
    period text NOT NULL,           -- 'day:2026-11-22' or 'month:2026-11'
    settled_usd numeric(18, 8) NOT NULL DEFAULT 0,
    reserved_usd numeric(18, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, period)
  );
  CREATE TABLE sb_reservations (
    id text PRIMARY KEY,
    tenant text NOT NULL,
    amount_usd numeric(18, 8) NOT NULL,
    periods text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz
  );
  CREATE TABLE sb_calls (
    request_id text NOT NULL,
    at timestamptz NOT NULL,
    tenant text NOT NULL,
    user_id text,
    tool text NOT NULL,
    mode text,
    task_type text,
    tier text,
    confidence real,
    model text,
    provider text,
    attempts integer NOT NULL DEFAULT 0,
    fallbacks integer NOT NULL DEFAULT 0,
    latency_ms integer NOT NULL,
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
    tools text[] NOT NULL DEFAULT '{}',
    mcp_tools text[] NOT NULL DEFAULT '{}',
    outcome text NOT NULL,
    experiment text,
    arm text,
    overridden boolean NOT NULL DEFAULT false,
    prompt text
  );
  CREATE INDEX sb_calls_tenant_at ON sb_calls (tenant, at);
  CREATE INDEX sb_calls_request ON sb_calls (request_id);
  CREATE TABLE sb_feedback (
    request_id text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    tenant text NOT NULL,
    user_id text,
    rating real,
    preferred_model text,
    note text
  );
  CREATE INDEX sb_feedback_tenant ON sb_feedback (tenant, at);
  `,
  // The decision's one-line reason, for the dashboard's recent decisions.
  `
  ALTER TABLE sb_calls ADD COLUMN reason text;
  `,
  // Budget reservations carry a lease (a reaper releases those of calls lost in a crash) and
  // remember what they settled to, so a settle after the lease still records the real spend.
  // Reservations left open before leases existed expire an hour after they were made.
  `
  ALTER TABLE sb_reservations ADD COLUMN expires_at timestamptz;
  ALTER TABLE sb_reservations ADD COLUMN actual_usd numeric(18, 8);
  ALTER TABLE sb_reservations ADD COLUMN reaped_at timestamptz;
  UPDATE sb_reservations SET expires_at = created_at + interval '1 hour' WHERE expires_at IS NULL;
  ALTER TABLE sb_reservations ALTER COLUMN expires_at SET DEFAULT now() + interval '1 hour';
  ALTER TABLE sb_reservations ALTER COLUMN expires_at SET NOT NULL;
  CREATE INDEX sb_reservations_open ON sb_reservations (expires_at) WHERE settled_at IS NULL;
  `,
];
