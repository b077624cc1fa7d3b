"""Waiting out throttling that outlasts botocore's own retries, so a long pagination resumes from
the page it was on instead of failing (or starting over)."""

from __future__ import annotations

import random
import threading

from ..aws import THROTTLED, error_code, errors

ROUNDS = 6  # after botocore's attempts, per call
FIRST_S, LONGEST_S = 1.0, 30.0


def call(fn, stop: threading.Event, **params):
    """fn(**params); a throttling error after botocore's retries waits (1 s, doubling to 30 s, with
    jitter; a stop ends the wait) and asks again with the same parameters, `ROUNDS` times."""
    delay = FIRST_S
    for attempt in range(ROUNDS + 1):
        try:
            return fn(**params)
        except errors() as e:
            if error_code(e) not in THROTTLED and not _slow_down(e) or attempt == ROUNDS:
                raise
            stop.wait(delay * (0.5 + random.random()))
            if stop.is_set():
                raise InterruptedError("stopped") from None
            delay = min(delay * 2, LONGEST_S)
    raise AssertionError("unreachable")


def _slow_down(e) -> bool:
    """S3's 503 (SlowDown, or a bare 503 some proxies give)."""
    meta = getattr(e, "response", {}) or {}
    return (meta.get("ResponseMetadata") or {}).get("HTTPStatusCode") == 503


def pages(fn, stop: threading.Event, *, token_in: str, token_out: str, more=None, **params):
    """The pages of a paginated call, each asked through `call`: the next page from the last token
    (`token_out` of a page is sent as `token_in`); `more(page)` says whether another page follows
    (default: a token was returned)."""
    token = None
    while True:
        if stop.is_set():
            raise InterruptedError("stopped")
        kw = dict(params)
        if token:
            kw[token_in] = token
        page = call(fn, stop, **kw)
        yield page
        nxt = page.get(token_out)
        if not nxt or (more is not None and not more(page)) or nxt == token:
            return
        token = nxt
