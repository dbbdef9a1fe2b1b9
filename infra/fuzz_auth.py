"""Schemathesis auth for infra/fuzz: each request takes the next of several API keys
(FUZZ_API_KEYS, comma-separated), so the per-key rate limit does not turn the run into 429s."""
import itertools
import os

import schemathesis

_KEYS = itertools.cycle(os.environ["FUZZ_API_KEYS"].split(","))


@schemathesis.auth(refresh_interval=None)
class RotatingApiKey:
    def get(self, case, context):
        return next(_KEYS)

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
