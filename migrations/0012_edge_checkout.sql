ALTER TABLE "idempotency_keys" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- A guard for non-interactive batches (Neon's HTTP transaction): a statement that must hold for
-- the batch to commit calls souk_assert(condition, code, detail). False raises P0001 with the
-- code as the message, so the whole batch rolls back and the caller maps the code to a problem.
CREATE OR REPLACE FUNCTION souk_assert(ok boolean, code text, detail text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = code, DETAIL = coalesce(detail, '');
  END IF;
  RETURN true;
END
$$;
