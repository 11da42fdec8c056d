"""The RU budget (explorer.core.ru_budget): pacing, what is spent, and the status line's words.
Pure logic on a fake clock (no I/O)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.ru_budget import (DEFAULT_PRODUCTION_RU_PER_SECOND, RuBudget, load_text, seconds_text,
                                     throttled_text)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_first_request_goes_at_once_and_a_charge_delays_the_next_by_its_share_of_the_rate():
    clock = FakeClock()
    budget = RuBudget(100, clock)
    assert budget.wait() == 0
    budget.charge(50)
    assert budget.wait() == pytest.approx(0.5)
    clock.now += 0.2
    assert budget.wait() == pytest.approx(0.3)
    clock.now += 0.3
    assert budget.wait() == 0
    assert budget.spent == 50


def test_charges_queue_up_when_they_come_faster_than_the_rate():
    clock = FakeClock()
    budget = RuBudget(10, clock)
    for _ in range(3):
        budget.charge(5)  # three answers at the same instant: 1.5 s of budget
    assert budget.wait() == pytest.approx(1.5)
    assert budget.spent == 15


def test_idle_time_is_not_saved_up_as_a_burst():
    clock = FakeClock()
    budget = RuBudget(10, clock)
    budget.charge(10)
    clock.now += 60  # a long pause
    assert budget.wait() == 0
    budget.charge(10)
    assert budget.wait() == pytest.approx(1.0)  # the next waits its full share, not less


@pytest.mark.parametrize("odd", [-5, float("nan"), float("inf"), float("-inf"), 0, "12", None])
def test_odd_charges_count_as_nothing(odd):
    clock = FakeClock()
    budget = RuBudget(10, clock)
    budget.charge(odd)
    assert budget.spent == 0
    assert budget.wait() == 0


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_a_budget_must_be_a_positive_finite_rate(rate):
    with pytest.raises(ValueError, match="positive"):
        RuBudget(rate)


def test_default_production_budget_is_a_quarter_of_the_smallest_container():
    assert DEFAULT_PRODUCTION_RU_PER_SECOND == 400 / 4


@settings(max_examples=300, deadline=None)
@given(
    rate=st.floats(min_value=1, max_value=5000),
    requests=st.lists(
        st.tuples(st.floats(min_value=0, max_value=2000),  # the request's charge
                  st.floats(min_value=0, max_value=3),  # how long its answer took
                  st.floats(min_value=0, max_value=2)),  # idle time after it, before the next is wanted
        min_size=1, max_size=60),
)
def test_paced_requests_never_exceed_the_rate_beyond_one_request(rate, requests):
    """Sequential requests that each wait `wait()` before they start: in any stretch of time the
    charges of the requests started within it stay within rate * length + the last one's charge."""
    clock = FakeClock(0.0)
    budget = RuBudget(rate, clock)
    starts: list[tuple[float, float]] = []
    for charge, latency, idle in requests:
        clock.now += budget.wait()
        starts.append((clock.now, charge))
        clock.now += latency
        budget.charge(charge)
        clock.now += idle
    for i in range(len(starts)):
        total = 0.0
        for j in range(i, len(starts)):
            total += starts[j][1]
            length = starts[j][0] - starts[i][0]
            assert total <= rate * length + starts[j][1] + 1e-6 * max(1.0, total)
    assert math.isclose(budget.spent, sum(c for c, _, _ in requests), rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(min_value=1, max_value=1000),
       charges=st.lists(st.floats(min_value=0, max_value=500), min_size=1, max_size=40))
def test_back_to_back_requests_take_the_time_their_charges_buy(rate, charges):
    """With instant answers, a whole scan takes (all charges but the last) / rate: paced, not slower."""
    clock = FakeClock(0.0)
    budget = RuBudget(rate, clock)
    first = None
    for charge in charges:
        clock.now += budget.wait()
        first = clock.now if first is None else first
        budget.charge(charge)
    assert clock.now - first == pytest.approx(sum(charges[:-1]) / rate, rel=1e-6, abs=1e-6)


def test_words_for_waits_and_load():
    assert seconds_text(0.26) == "0.3"
    assert seconds_text(2.0) == "2"
    assert seconds_text(12.4) == "12"
    assert seconds_text(-1) == "0"
    assert throttled_text(1.5) == "throttled, waiting 1.5 s"
    assert load_text(1234.56) == "1,234.6 RU this session"
    assert load_text(12, 100) == "12.0 RU this session · budget 100 RU/s"
    assert load_text(12, 100, waiting=3) == "12.0 RU this session · budget 100 RU/s · throttled, waiting 3 s"
    assert load_text(0, None, waiting=0.4) == "0.0 RU this session · throttled, waiting 0.4 s"
