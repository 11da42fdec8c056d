"""The Cosmos lister implements the backend interface the session depends on (explorer.backends.base):
every method of every Protocol is on CosmosLister, taking the same parameters in the same order (it
may take more, each with a default), and every attribute is set by its constructor. Nothing runs."""

from __future__ import annotations

import inspect

import pytest

from explorer.backends import base
from explorer.backends.cosmos.lister import CosmosLister


def methods(protocol) -> list[str]:
    return sorted({name for klass in protocol.__mro__ if klass.__module__ == base.__name__
                   for name, value in vars(klass).items() if inspect.isfunction(value) and not name.startswith("_")})


@pytest.mark.parametrize("protocol", [base.PartitionLister, base.KeyPager, base.PointReader, base.Querier,
                                      base.StoreBackend])
def test_the_cosmos_lister_has_every_method_of_the_interface(protocol):
    assert methods(protocol)
    for name in methods(protocol):
        wanted = list(inspect.signature(getattr(protocol, name)).parameters.values())
        given = list(inspect.signature(getattr(CosmosLister, name)).parameters.values())
        assert [p.name for p in given[:len(wanted)]] == [p.name for p in wanted], name
        assert all(p.default is not inspect.Parameter.empty for p in given[len(wanted):]), name
        assert inspect.iscoroutinefunction(getattr(CosmosLister, name)) == inspect.iscoroutinefunction(
            getattr(protocol, name)) or inspect.isasyncgenfunction(getattr(CosmosLister, name)), name


def test_the_cosmos_lister_sets_every_attribute_of_the_interface():
    made = inspect.getsource(CosmosLister.__init__)
    for name in inspect.get_annotations(base.StoreBackend):
        assert f"self.{name} =" in made or f"self.{name}:" in made, name
