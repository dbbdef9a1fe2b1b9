"""Schemathesis auth for infra/fuzz: each request takes the next of several API keys
(FUZZ_API_KEYS, comma-separated), so the per-key rate limit does not turn the run into 429s."""
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
    a 422 by design, and generated keys repeat."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query:
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4()}"
