"""KeyWindow: which pages of a partition the key table holds (pure bookkeeping, no I/O).

The "partition" here is a list of integers paged by a tiny in-test pager — pure
logic, no Cosmos; the real paging is tested in tests/integration.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.key_window import KeyWindow


def pager(total: int, size: int):
    """Continuation tokens like Cosmos': opaque strings that only go forward."""

    def page(token: str | None):
        start = int(token) if token else 0
        rows = list(range(start, min(start + size, total)))
        following = start + size
        return rows, (str(following) if following < total else None)

    return page


def test_scrolling_down_holds_at_most_max_pages_and_reaches_the_end():
    window, page = KeyWindow(max_pages=3), pager(1000, 100)
    seen = []
    while (request := window.next_request()) is not None:
        rows, token = page(request.token)
        change = window.add_page(request, rows, token)
        seen.extend(change.appended)
        assert len(window.rows) <= 300
    assert seen == list(range(1000))
    assert window.at_end and window.rows == list(range(700, 1000))


def test_scrolling_back_up_refetches_earlier_pages_in_order():
    window, page = KeyWindow(max_pages=2), pager(500, 100)
    while (request := window.next_request()) is not None:
        window.add_page(request, *page(request.token))
    assert window.rows == list(range(300, 500))
    request = window.previous_request()
    assert request.index == 2 and request.token == "200"
    change = window.add_page(request, *page(request.token))
    assert change.prepended == tuple(range(200, 300)) and change.dropped_back == 100
    assert window.rows == list(range(200, 400)) and not window.at_end
    # going down again re-uses the token it already knows for page 4
    request = window.next_request()
    assert (request.index, request.token) == (4, "400")


def test_one_request_at_a_time_and_stale_answers_are_ignored():
    window = KeyWindow(max_pages=2)
    first = window.next_request()
    assert window.next_request() is None  # pending
    window.cancel()
    again = window.next_request()
    assert again == first
    assert window.add_page(first, [1, 2], "x").appended == (1, 2)
    stale = window.add_page(first, [9], None)  # the same page answered twice
    assert stale.appended == () and window.rows == [1, 2]


def test_an_empty_partition_is_at_its_end_after_one_page():
    window = KeyWindow()
    request = window.next_request()
    window.add_page(request, [], None)
    assert window.at_end and window.rows == [] and window.next_request() is None


@settings(max_examples=200)
@given(total=st.integers(0, 2000), size=st.integers(1, 150), max_pages=st.integers(1, 6),
       moves=st.lists(st.booleans(), max_size=60))
def test_any_scroll_sequence_shows_a_contiguous_slice_within_the_budget(total, size, max_pages, moves):
    window, page = KeyWindow(max_pages=max_pages), pager(total, size)
    for down in [True] + moves:
        request = window.next_request() if down else window.previous_request()
        if request is None:
            continue
        window.add_page(request, *page(request.token))
        rows = window.rows
        assert len(rows) <= max_pages * size
        assert rows == list(range(rows[0], rows[0] + len(rows))) if rows else True
        assert not rows or rows[0] == window.first_page * size
