"""Retry policy for Prefect tasks: exponential backoff, and only for failures that a retry
can fix (network, storage, timeouts). A data or configuration error fails at once."""
from __future__ import annotations

import http.client
import urllib.error

from prefect.tasks import exponential_backoff

from infra.store import StoreError

TRANSIENT = (StoreError, ConnectionError, TimeoutError, urllib.error.URLError, http.client.HTTPException)


def is_transient(exc: BaseException | None) -> bool:
    import urllib3.exceptions

    return isinstance(exc, (*TRANSIENT, urllib3.exceptions.HTTPError))


def retry_if_transient(task, task_run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the state's own exception, inspected
        return is_transient(exc)
    return False


# 10 s, 20 s, 40 s (+-50 % jitter): long enough for a restarted S3 server or a flaky network.
STORAGE_RETRIES = dict(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10),
                       retry_jitter_factor=0.5, retry_condition_fn=retry_if_transient)
