"""schemathesis hooks for the contract test (Tests/EnqueuerTests/ContractTests.swift).

Five rules of the API cannot be written in JSON Schema, so openapi.yaml states them in prose:

- a job's `run_at` must be within 366 days of the server's now (a rule of time);
- `chip_ids` must name chips the tenant has (a rule of the tenant's data, like an unknown id in a
  path, which the check already accepts as 404);
- a webhook endpoint's `url` may not be a loopback, private or link-local address (a rule of
  addresses, which a pattern would state only for some spellings of them);
- a campaign's pace has its maximum at least its minimum, for the interval and for the rest (a
  rule between two fields);
- a `text/csv` recipient list needs a header line with one `phone` column, no column named twice
  and its quotes closed (a rule of the text format; the schema can only say "a string").

A schema-valid request refused with 422 for one of these, and only for these (every field error
in the answer must match), is not a failure of the document. Any other refused valid request
still fails the run, and schemathesis's summary prints how many failures this dropped.
"""

import re

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

RULES = [
    # `/run_at` of a single submission, `/jobs/N/run_at` of a batch.
    (re.compile(r"^(/jobs/\d+)?/run_at$"), re.compile(r"^must be within 366 days from now$")),
    (re.compile(r"^/chip_ids$"), re.compile(r"^no chips? [\d, ]+ among the tenant's; list them with GET /v1/chips$")),
    (re.compile(r"^/url$"), re.compile(r"^must not point at a loopback, private or link-local address$")),
    (re.compile(r"^/pace/max_interval_ms$"), re.compile(r"^must be at least min_interval_ms \(\d+\)$")),
    (re.compile(r"^/pace/rest_max_ms$"), re.compile(r"^must be at least rest_min_ms \(\d+\)$")),
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
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return True
    try:
        errors = response.json().get("errors") or []
    except Exception:
        return True
    return not (errors and all(stated_in_prose(e) for e in errors))
