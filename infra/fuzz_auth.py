"""Schemathesis auth for infra/fuzz: each request takes the next of several API keys
(FUZZ_API_KEYS, comma-separated), so the per-key rate limit does not turn the run into 429s."""
import datetime
import itertools
import os
import uuid

import schemathesis

_KEYS = itertools.cycle(os.environ["FUZZ_API_KEYS"].split(","))


@schemathesis.auth(refresh_interval=None)
class RotatingApiKey:
    def get(self, case, context):
        return next(_KEYS)

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Two inputs of schema-valid cases that no schema can make valid, replaced as a client would
    fill them (in-process tests cover both): a list cursor is a sealed token only the server
    issues, so a made-up one is a 400 by design; an Idempotency-Key reused with another request is
    a 422 by design, and generated keys repeat. A third: a report's range (from <= to, at most
    31 days by the hour or 366 by the day) is a rule across parameters, so `from` is moved into
    it as a client would choose it."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query:
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4()}"
    if case.query and ("from" in case.query or "to" in case.query) and case.path.startswith("/reports/"):
        bound_report_range(case.query)


def bound_report_range(query):
    day = datetime.date.fromisoformat
    to = day(query["to"]) if "to" in query else datetime.datetime.now(datetime.timezone.utc).date()
    days = 31 if query.get("granularity") == "hour" else 366
    start = day(query["from"]) if "from" in query else to - datetime.timedelta(days=min(days, 7) - 1)
    if start > to or (to - start).days >= days:
        query["from"] = max(to - datetime.timedelta(days=min(days, 7) - 1), datetime.date(1970, 1, 1)).isoformat()
