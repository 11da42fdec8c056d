"""Tell the local Cosmos-compatible server to throttle, and read what it was asked: the test hooks of
stack/cosmos/throttle.js (its `/_explorer/` paths on loopback), for tests and benches.

What it is for: `throttle(stack, 200)` provisions 200 RU/s (for the account, or one collection),
`fail_next(stack, 2, method="POST")` answers the next two matching requests 429, `unthrottle(stack)`
provisions nothing again; `requests(stack)` is the server's record of every request it answered
(time, method, path, priority, status, charge, user agent) and `clear(stack)` empties it.

What it must never do: talk to anything but the stack's own loopback server, or send its key (the
admin paths need none; the record holds no bodies and no keys).
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from explorer.errors import StackError

#: What the user agents the server sees contain: the explorer's lister is azure-cosmos' async client
#: (the stack's and the tests' own clients are its sync one); daprd's is azcosmos for Go (after Dapr's
#: application id, "dapr-1.18.2 azsdk-go-azcosmos/v1.0.3 …").
EXPLORER_AGENT = "azsdk-python-cosmos-async"
DAPRD_AGENT = "azsdk-go-azcosmos"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server answered it."""

    time: float  # seconds since the epoch, when it arrived
    method: str
    path: str
    priority: str | None  # x-ms-cosmos-priority-level as sent; None: not sent (High)
    status: int
    charge: float  # x-ms-request-charge it answered (0 for a 429)
    user_agent: str
    database: str | None
    collection: str | None

    @property
    def from_explorer(self) -> bool:
        return EXPLORER_AGENT in self.user_agent

    @property
    def from_daprd(self) -> bool:
        return DAPRD_AGENT in self.user_agent

    @property
    def throttled(self) -> bool:
        return self.status == 429


def _call(stack, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    if stack.cosmos is None:
        raise StackError("the local stack is not started")
    url = urlsplit(stack.cosmos.url)
    if url.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise StackError(f"the server's test hooks are reached on loopback only, not {url.hostname}")
    context = ssl.create_default_context(cafile=str(stack.cosmos.ca_file))
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        connection.request(method, f"/_explorer/{path}", body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
    finally:
        connection.close()
    answer = json.loads(text) if text else {}
    if response.status != 200:
        raise StackError(f"the server refused {method} /_explorer/{path}: {response.status} {answer.get('message', '')}")
    return answer


def throttle(stack, ru_per_second: float, database: str | None = None, collection: str | None = None) -> None:
    """Provision `ru_per_second` RU/s for one collection (both names given) or the whole account: from now
    on a request beyond it in the current second is answered 429 (low priority first; see throttle.js)."""
    body: dict[str, Any] = {"ruPerSecond": ru_per_second}
    if database is not None or collection is not None:
        body.update(database=database, collection=collection)
    _call(stack, "PUT", "throttle", body)


def fail_next(stack, count: int, method: str | None = None, user_agent: str | None = None,
              retry_after_ms: int = 100) -> None:
    """Answer the next `count` requests (of `method`, from a user agent containing `user_agent`) 429
    whatever the load: a fault injector, for a test that needs a throttled request for certain."""
    _call(stack, "PUT", "throttle", {"failNext": {"count": count, "method": method, "userAgent": user_agent,
                                                  "retryAfterMs": retry_after_ms}})


def unthrottle(stack) -> None:
    """Provision nothing: no request is throttled (the record is kept)."""
    _call(stack, "DELETE", "throttle")


def requests(stack) -> list[RecordedRequest]:
    """Every request the server answered since it started (or since `clear`), oldest first."""
    return [RecordedRequest(time=r["time"] / 1000, method=r["method"], path=r["path"], priority=r["priority"],
                            status=r["status"], charge=float(r["charge"]), user_agent=r["userAgent"],
                            database=r["database"], collection=r["collection"])
            for r in _call(stack, "GET", "requests")["requests"]]


def clear(stack) -> None:
    """Forget the record so far."""
    _call(stack, "DELETE", "requests")
