ALTER TABLE "products" ADD COLUMN "max_per_buyer" integer;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_max_per_buyer_positive" CHECK ("products"."max_per_buyer" > 0);--> statement-breakpoint
-- A UUIDv7 (RFC 9562) made in SQL, for rows a raw statement writes without ids from the app (the
-- audit rows of checkouts a purchase replaces): 48 bits of Unix milliseconds, version 7, then
-- random bits, so they sort by time like the app's ids (src/lib/ids.ts).
CREATE OR REPLACE FUNCTION souk_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
        from 1 for 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
