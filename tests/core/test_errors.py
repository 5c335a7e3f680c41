"""Provider errors: what survives pickling (multiprocessing, task queues)."""

from __future__ import annotations

import pickle

import pytest

from aether.errors import (
    ProviderError,
    RateLimitError,
    ResponseBlockedError,
    StreamInterruptedError,
)


@pytest.mark.parametrize(
    "error",
    [
        RateLimitError("slow down", provider="p", status_code=429, retry_after=2.0),
        StreamInterruptedError("cut", chunks_received=3, provider="p", request_id="req_1"),
        ResponseBlockedError("blocked", reason="refusal", refusal="No.", should_retry=False),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_attribute_survives_pickling(error: ProviderError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert vars(copy) == vars(error)  # a subclass's own attributes included
    assert str(copy) == str(error)
