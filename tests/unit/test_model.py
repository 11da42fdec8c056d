"""Shared value types (explorer.core.model; pure): a document's odd number fields never crash a read."""

from __future__ import annotations

import math

import pytest

from explorer.core.model import NO_PARTITION_KEY, MissingPartitionKey, partition_of, whole_number


@pytest.mark.parametrize("value, expected", [(5, 5), (-1, -1), (60.0, 60), (10**30, 10**30), (1.5, None),
                                             (math.nan, None), (math.inf, None), (True, None), ("60", None),
                                             (None, None), ([1], None)])
def test_whole_number_reads_only_whole_numbers(value, expected):
    assert whole_number(value) == expected


def test_the_undefined_partition_is_its_own_value():
    assert isinstance(partition_of({"id": "x"}), MissingPartitionKey)
    assert partition_of({"id": "x"}) is NO_PARTITION_KEY
    assert partition_of({"partitionKey": "(no partitionKey)"}) == NO_PARTITION_KEY
    assert not isinstance(partition_of({"partitionKey": "(no partitionKey)"}), MissingPartitionKey)
    assert partition_of({"partitionKey": 7}) == "7"
