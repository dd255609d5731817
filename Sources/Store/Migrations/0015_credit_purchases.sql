-- whago-jobs schema, version 15: credit packs bought through the gateways.
--
-- The packs on sale (seeded by `whago migrate` from jobs/plans.json, edited by operators later)
-- and each purchase of one. A purchase carries its own gateway idempotency key, written before the
-- gateway is called, so a retried request or job charges under the same key; the client's
-- Idempotency-Key (request_key) makes a repeated POST answer the same purchase. Its credits are
-- granted once: credit_pack_id is set in the transaction that inserts the pack, and the pack's
-- external_ref (purchase-<id>) is unique. A refund or a chargeback reverses it: the pack's unspent
-- credits are removed (a negative pack_reversal ledger row, reversed_at on the pack so no message
-- refund puts one back) and what was already spent is reported, not clawed back.
CREATE TABLE credit_pack_offers (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  credits     int NOT NULL CHECK (credits > 0),
  price_cents int NOT NULL CHECK (price_cents > 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE credit_purchases (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id          bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  pack               text NOT NULL,               -- the offer's id, as a snapshot with its credits and price
  credits            int NOT NULL CHECK (credits > 0),
  amount_cents       int NOT NULL CHECK (amount_cents > 0),
  currency           text NOT NULL DEFAULT 'BRL' CHECK (currency ~ '^[A-Z]{3}$'),
  gateway            text NOT NULL CHECK (gateway IN ('stripe', 'mercadopago', 'paypal')),
  method             text NOT NULL CHECK (method IN ('card', 'pix', 'boleto')),
  customer           text NOT NULL,               -- the gateway's customer (a card) or the payer's e-mail
  payment_method     text,                        -- the saved card (NULL for PIX and boleto)
  idempotency_key    text NOT NULL UNIQUE CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
  request_key        text CHECK (char_length(request_key) BETWEEN 1 AND 255),
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'awaiting_payment', 'paid', 'failed', 'expired', 'refunded',
                                       'charged_back')),
  gateway_payment_id text,
  failure            text,
  pix_qr_code        text,
  pix_qr_code_base64 text,
  boleto_url         text,                        -- the slip to print or pay online
  boleto_barcode     text,
  expires_at         timestamptz,
  credit_pack_id     bigint UNIQUE REFERENCES credit_packs (id),
  credits_removed    int CHECK (credits_removed >= 0),        -- by a reversal: the pack's unspent credits
  credits_spent      int CHECK (credits_spent >= 0),          -- by a reversal: already spent, reported
  paid_at            timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, request_key),
  CONSTRAINT credit_purchases_card CHECK ((method = 'card') = (payment_method IS NOT NULL)),
  CONSTRAINT credit_purchases_pix CHECK (method = 'card' OR gateway = 'mercadopago'),
  CONSTRAINT credit_purchases_paid
    CHECK ((status IN ('paid', 'refunded', 'charged_back')) = (credit_pack_id IS NOT NULL AND paid_at IS NOT NULL)),
  CONSTRAINT credit_purchases_reversed
    CHECK ((status IN ('refunded', 'charged_back')) = (credits_removed IS NOT NULL AND credits_spent IS NOT NULL))
);
CREATE INDEX credit_purchases_payment_idx ON credit_purchases (gateway, gateway_payment_id)
  WHERE gateway_payment_id IS NOT NULL;

ALTER TABLE credit_packs ADD COLUMN reversed_at timestamptz;
ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_reason_check;
ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_reason_check
  CHECK (reason IN ('period_reset', 'period_expired', 'pack_purchase', 'pack_reversal', 'message', 'adjustment'));
