"""Test helpers: a stateful simulator of the eMAG Marketplace API v4.4.9 on 127.0.0.1.

Run your own code against it the way you would use stripe-mock or moto::

    from magflow_emag.testing import Simulator

    with Simulator(orders=50, offers=20, seed=7) as sim:
        client = MyClient(sim.url, sim.username, sim.password)   # routes: {url}/{resource}/{action}
        ...
        assert sim.stats()["max_in_any_second"]["orders"] <= 12

or in a pytest fixture::

    @pytest.fixture
    def sim():
        with Simulator(orders=10, enforce_rate_limits=False) as s:
            yield s

``start()`` / ``stop()`` work too. Faults: ``sim.inject("http_503", count=2, resource="order",
action="read")``; kinds ``http_500``, ``http_503``, ``timeout``, ``reset``, ``rate_limit``,
``is_error``, ``malformed_json``. The simulated clock moves with ``advance_clock(seconds)``
and ``set_now("YYYY-mm-dd HH:ii:ss")`` (the 48 h rules of ``order/save`` read it).
"""

from __future__ import annotations

from ._native import Simulator

FAULTS = ("http_500", "http_503", "timeout", "reset", "rate_limit", "is_error", "malformed_json")

__all__ = ["Simulator", "FAULTS"]
