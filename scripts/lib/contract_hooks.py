"""schemathesis hooks for the contract test (Tests/EnqueuerTests/ContractTests.swift).

Eight rules of the API cannot be written in JSON Schema, so openapi.yaml states them in prose:

- a job's `run_at` must be within 366 days of the server's now (a rule of time);
- `chip_ids` (and a plan change's `keep_chips`) must name chips the tenant has (a rule of the
  tenant's data, like an unknown id in a path, which the check already accepts as 404);
- a plan change's `plan` must name one of the plans (a rule of the operators' data: plans are
  rows an operator adds with `whago plan set`, so no enum in the document can list them), and a
  credit purchase's `pack` one of the packs on sale, for the same reason;
- a credit purchase by PIX or boleto goes through mercadopago and names the payer (an e-mail for
  PIX; for a boleto name, address and a CPF whose check digits check), and one by card names the
  customer and card unless the tenant's subscription at that gateway has them (rules between
  fields, of arithmetic and of the tenant's data);
- a webhook endpoint's `url` may not be a loopback, private or link-local address (a rule of
  addresses, which a pattern would state only for some spellings of them);
- a campaign's pace has its maximum at least its minimum, for the interval and for the rest (a
  rule between two fields);
- a `text/csv` recipient list needs a header line with one `phone` column, no column named twice
  and its quotes closed (a rule of the text format; the schema can only say "a string");
- an opt-out's `phone` must be a number of its country's numbering plan: Brazilian area codes
  and lengths, a real country calling code (a rule of a numbering plan; the schema's pattern
  states only the characters). In the body a refusal is a 422 at `/phone`; in the list's query,
  a 400 whose detail starts with `phone: `.

A schema-valid request refused with 422 for one of these, and only for these (every field error
in the answer must match), is not a failure of the document. Any other refused valid request
still fails the run, and schemathesis's summary prints how many failures this dropped.
"""

import re

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

PHONE = re.compile(
    r"^(no phone number given|the area code \(DDD\) is missing: .*|the number has \d+ digits: .*"
    r"|\d+ is not a Brazilian area code \(DDD\)|\+\d+ is not a country calling code"
    r"|a number with \d digits after the area code .*|the chat is a group, .*)$"
)

RULES = [
    # `/run_at` of a single submission, `/jobs/N/run_at` of a batch.
    (re.compile(r"^(/jobs/\d+)?/run_at$"), re.compile(r"^must be within 366 days from now$")),
    (re.compile(r"^/(chip_ids|keep_chips)$"), re.compile(r"^no chips? [\d, ]+ among the tenant's; list them with GET /v1/chips$")),
    (re.compile(r"^/plan$"), re.compile(r"^no plan '.*'; plans: .*$")),
    (re.compile(r"^/pack$"), re.compile(r"^no credit pack '.*'; packs on sale: .*$")),
    (re.compile(r"^/payment_method$"), re.compile(r"^PIX and boleto are paid through mercadopago only$")),
    (
        re.compile(r"^/payer$"),
        re.compile(r"^(missing: the payer's email, first_name, last_name, cpf and address, for the boleto|only for a boleto .*)$"),
    ),
    (re.compile(r"^/payer/cpf$"), re.compile(r"^must be a valid CPF: 11 digits with its two check digits$")),
    (
        re.compile(r"^/payer_email$"),
        re.compile(r"^(missing: the payer's e-mail, which Mercado Pago requires for PIX|only for PIX .*)$"),
    ),
    (
        re.compile(r"^/(customer|payment_method)$"),
        re.compile(r"^no card on file at \w+ for this tenant: send customer and payment_method, or pay by PIX$"),
    ),
    (re.compile(r"^/url$"), re.compile(r"^must not point at a loopback, private or link-local address$")),
    (re.compile(r"^/pace/max_interval_ms$"), re.compile(r"^must be at least min_interval_ms \(\d+\)$")),
    (re.compile(r"^/pace/rest_max_ms$"), re.compile(r"^must be at least rest_min_ms \(\d+\)$")),
    (re.compile(r"^/phone$"), PHONE),
    (
        re.compile(r"^$"),
        re.compile(
            r"^(the CSV is empty|the CSV header has no phone column|the CSV header has the column .* twice"
            r"|the double quote opened on line \d+ is never closed)"
        ),
    ),
]


def stated_in_prose(error):
    pointer, detail = error.get("pointer", ""), error.get("detail", "")
    return any(p.match(pointer) and d.match(detail) for p, d in RULES)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if not isinstance(failure, RejectedPositiveData) or response.status_code not in (400, 422):
        return True
    try:
        body = response.json()
    except Exception:
        return True
    if response.status_code == 400:
        detail = body.get("detail") or ""
        return not (detail.startswith("phone: ") and PHONE.match(detail[len("phone: ") :]))
    errors = body.get("errors") or []
    return not (errors and all(stated_in_prose(e) for e in errors))
