"""Smoke test of an installed magflow_emag (a release wheel or a wheel built from the sdist).

Run by tests/packaging/check.sh in a fresh virtualenv outside the repository: it must work
with nothing but the installed package. Exits non-zero with a message on the first failure.
"""

import os
import sys
import tempfile

import magflow_emag as m
from magflow_emag.testing import Simulator

here = os.path.dirname(os.path.abspath(m.__file__))
assert "site-packages" in here, f"imported from {here}, not from the installed package"
print("magflow_emag", m.__version__, "from", here)

with Simulator(orders=30, offers=5, seed=11) as sim, tempfile.TemporaryDirectory() as tmp:
    # The default configuration: eMAG's quotas through the account's limiter.
    client = m.Client(sim.username, sim.password, base_url=sim.url)
    store = m.Store(os.path.join(tmp, "smoke.db"))
    summary = m.sync_orders(client, store)
    assert summary["status"] == "success", summary
    assert summary["fetched"] > 0 and summary["fetched"] == summary["created"], summary
    assert store.count_orders() == summary["fetched"], (store.count_orders(), summary)

    backups = m.BackupManager(store, os.path.join(tmp, "backups"))
    info = backups.create()
    assert backups.verify(info["filename"])["valid"], info
    print(f"smoke: synced {summary['fetched']} orders, backup {info['filename']} verified")

try:
    m.cancellation_reason_text(1, "de")
except m.EmagApiError as exc:
    assert isinstance(exc, m.InvalidArgumentError)
else:
    sys.exit("an unknown language was accepted")
# The test and benchmark probes (`--features probes`) are not in a release build.
from magflow_emag import _native  # noqa: E402

assert not hasattr(_native, "_probes"), "the release module carries the test probes"
print("smoke: ok")
