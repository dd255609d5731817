-- whago-jobs schema, version 16: personal data that ages out or is erased (LGPD).
--
-- A campaign whose plan keeps data for retention_days has its recipients' numbers, chat ids,
-- variables and sent texts removed that many days after it finished (`retention.sweep`); the
-- rows stay, without them, so the campaign's counts and report still add up. A data subject's
-- erasure (DELETE /v1/contacts/{phone}) does the same for one number in every campaign of the
-- tenant and keeps only a hash of it (tenant and number under SHA-256), so the number is never
-- messaged again without being kept. A departed tenant's erasure (`whago tenant erase`) removes
-- its personal data and keeps what the law requires (invoices, payments, the credit ledger).
ALTER TABLE campaign_messages ALTER COLUMN phone DROP NOT NULL;
-- Only a message that will not be sent may lose its number.
ALTER TABLE campaign_messages ADD CONSTRAINT campaign_messages_phone_kept
  CHECK (phone IS NOT NULL OR state NOT IN ('pending', 'sending'));
ALTER TABLE campaigns ADD COLUMN personal_data_removed_at timestamptz;
CREATE INDEX campaigns_finished_idx ON campaigns (coalesce(completed_at, cancelled_at))
  WHERE status IN ('completed', 'cancelled') AND personal_data_removed_at IS NULL;

-- Numbers erased at their owner's request: only the hash, and checked like an opt-out.
CREATE TABLE erased_contacts (
  tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  phone_hash bytea NOT NULL CHECK (octet_length(phone_hash) = 32),
  erased_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, phone_hash)
);

ALTER TABLE tenants ADD COLUMN erased_at timestamptz;

-- The one spelling of a contact's hash: SHA-256 of "<tenant id>:<E.164 number>".
CREATE FUNCTION contact_hash(tenant bigint, phone text) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sha256(convert_to(tenant::text || ':' || phone, 'UTF8')) $$;
