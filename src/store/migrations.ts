/**
 * The store's schema, one migration per entry, applied in order and never edited once shipped:
 * add a new entry instead. The same SQL runs on PGlite and PostgreSQL. Statements end with
 * a semicolon at the end of a line (inside a `$$` body they do not end it); `--` comments are allowed.
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
  // Reserve and settle as one statement each: one round trip per phase of a call instead of a
  // transaction of five. Each locks its ceiling rows in the order the caller gives (sorted by
  // scope, then period, in byte order), the one order every writer uses, so writers never deadlock.
  `
  CREATE OR REPLACE FUNCTION sb_reserve(p_id text, p_tenant text, p_scopes text[], p_periods text[], p_limits numeric[], p_amount numeric, p_lease_ms double precision)
  RETURNS TABLE (ok boolean, could_fit boolean, refused_at integer, settled numeric[], reserved numeric[])
  LANGUAGE plpgsql AS $$
  DECLARE
    v_settled numeric[] := '{}';
    v_reserved numeric[] := '{}';
    v_refused integer;
    v_fit boolean := true;
    v_s numeric;
    v_r numeric;
    n integer := coalesce(array_length(p_scopes, 1), 0);
  BEGIN
    FOR i IN 1 .. n LOOP
      SELECT settled_usd, reserved_usd INTO v_s, v_r FROM sb_spend WHERE scope = p_scopes[i] AND period = p_periods[i] FOR UPDATE;
      IF NOT FOUND THEN
        INSERT INTO sb_spend (scope, period) VALUES (p_scopes[i], p_periods[i]) ON CONFLICT DO NOTHING;
        SELECT settled_usd, reserved_usd INTO v_s, v_r FROM sb_spend WHERE scope = p_scopes[i] AND period = p_periods[i] FOR UPDATE;
      END IF;
      v_settled := v_settled || v_s;
      v_reserved := v_reserved || v_r;
      IF v_s + p_amount > p_limits[i] + 0.000000001 THEN v_fit := false; END IF;
      IF v_refused IS NULL AND v_s + v_r + p_amount > p_limits[i] + 0.000000001 THEN v_refused := i; END IF;
    END LOOP;
    IF v_refused IS NULL THEN
      FOR i IN 1 .. n LOOP
        UPDATE sb_spend SET reserved_usd = reserved_usd + p_amount WHERE scope = p_scopes[i] AND period = p_periods[i];
      END LOOP;
      INSERT INTO sb_reservations (id, tenant, amount_usd, periods, expires_at)
      VALUES (p_id, p_tenant, p_amount, ARRAY(SELECT p_scopes[i] || '|' || p_periods[i] FROM generate_series(1, n) AS i), now() + p_lease_ms * interval '1 millisecond');
    END IF;
    RETURN QUERY SELECT v_refused IS NULL, v_fit, v_refused, v_settled, v_reserved;
  END
  $$;
  CREATE OR REPLACE FUNCTION sb_settle(p_id text, p_actual numeric) RETURNS boolean
  LANGUAGE plpgsql AS $$
  DECLARE
    v_periods text[];
    v_amount numeric;
    v_release numeric := 0;
    v_pair text;
  BEGIN
    UPDATE sb_reservations SET settled_at = now(), actual_usd = p_actual WHERE id = p_id AND settled_at IS NULL RETURNING periods, amount_usd INTO v_periods, v_amount;
    IF FOUND THEN
      v_release := v_amount;
    ELSE
      -- Reaped after its lease: nothing is reserved any more, but the real spend still counts.
      UPDATE sb_reservations SET actual_usd = p_actual WHERE id = p_id AND reaped_at IS NOT NULL AND actual_usd IS NULL RETURNING periods INTO v_periods;
      IF NOT FOUND OR p_actual <= 0 THEN RETURN false; END IF;
    END IF;
    FOR v_pair IN SELECT x FROM unnest(v_periods) AS x ORDER BY split_part(x, '|', 1) COLLATE "C", split_part(x, '|', 2) COLLATE "C" LOOP
      UPDATE sb_spend SET reserved_usd = GREATEST(0, reserved_usd - v_release), settled_usd = settled_usd + p_actual
      WHERE scope = split_part(v_pair, '|', 1) AND period = split_part(v_pair, '|', 2);
    END LOOP;
    RETURN true;
  END
  $$;
  `,
  // Rate limits: requests and tokens per scope (tenant or token) per one-minute window, counted
  // in one statement per call so several Switchboard processes share one count.
  `
  CREATE TABLE sb_rate (
    scope text NOT NULL,
    window_start timestamptz NOT NULL,
    requests integer NOT NULL DEFAULT 0,
    tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, window_start)
  );
  `,
];
