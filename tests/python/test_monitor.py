"""Monitor through the Python binding: dicts, Prometheus text (parsed by prometheus_client),
alert callbacks (including ones that raise or read the monitor again), errors."""

import logging
import re
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

import magflow_emag
from magflow_emag import EmagApiError, InvalidArgumentError, Monitor


def test_no_traffic_is_healthy():
    m = Monitor()
    h = m.health()
    assert set(h) == {"status", "health_score", "metrics", "alerts", "timestamp"}
    assert h["status"] == "healthy"
    assert h["health_score"] == 100.0
    assert h["alerts"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", h["timestamp"])
    assert m.window_seconds == 300
    assert "Monitor(window_seconds=300" in repr(m)


def test_record_and_metrics():
    m = Monitor(window_seconds=60)
    for v in range(1, 101):
        m.record(float(v), v % 10 != 0, resource="order", action="read")
    m.record(5.0, True)
    x = m.metrics()
    assert (x["requests"], x["errors"]) == (101, 10)
    assert x["window_seconds"] == 60
    assert abs(x["latency_ms"]["p50"] - 50) <= 1
    assert x["latency_ms"]["max"] == 100.0
    [ep] = x["endpoints"]
    assert (ep["resource"], ep["action"], ep["requests"], ep["errors"]) == ("order", "read", 100, 10)
    assert x["outcomes"] == {"success": 91, "error": 10}
    assert x["latency_ms"]["p95"] is not None


def test_prometheus_text_parses_with_prometheus_client():
    m = Monitor()
    m.record(40.0, True, resource="order", action="read")
    m.record(700.0, False, resource="order", action="read")
    m.record(10.0, True, resource='we"ird\\name\n', action="read")
    m.record_rate_limit_usage("orders", 0.5)
    m.record_429("other")
    m.record_sync("orders", True, 1.5, 10)
    families = {f.name: f for f in text_string_to_metric_families(m.prometheus())}

    reqs = families["magflow_emag_requests"]
    assert reqs.type == "counter"
    by_labels = {
        (s.labels["resource"], s.labels["outcome"]): s.value
        for s in reqs.samples
        if s.name == "magflow_emag_requests_total"
    }
    assert by_labels[("order", "success")] == 1
    assert by_labels[("order", "error")] == 1
    assert by_labels[('we"ird\\name\n', "success")] == 1  # escaping round-trips

    hist = families["magflow_emag_request_duration_seconds"]
    assert hist.type == "histogram"
    order = [s for s in hist.samples if s.labels.get("resource") == "order"]
    buckets = {s.labels["le"]: s.value for s in order if s.name.endswith("_bucket")}
    assert buckets["0.05"] == 1 and buckets["0.5"] == 1 and buckets["1"] == 2
    assert buckets["+Inf"] == 2
    count = [s.value for s in order if s.name.endswith("_count")]
    total = [s.value for s in order if s.name.endswith("_sum")]
    assert count == [2] and abs(total[0] - 0.74) < 1e-9

    usage = {s.labels["bucket"]: s.value for s in families["magflow_emag_rate_limit_usage_ratio"].samples}
    assert usage == {"orders": 0.5, "other": 0.0}
    limited = {s.labels["bucket"]: s.value for s in families["magflow_emag_rate_limited"].samples}
    assert limited == {"orders": 0, "other": 1}
    assert families["magflow_emag_health_score"].type == "gauge"
    [score] = families["magflow_emag_health_score"].samples
    assert 0 <= score.value <= 100


def test_on_alert_receives_dicts_on_transitions_only():
    m = Monitor(min_samples=5)
    events = []
    m.on_alert(events.append)
    for _ in range(10):
        m.record(100.0, False)
    assert events == []  # record never evaluates
    m.health()
    m.metrics()
    assert len(events) == 1
    e = events[0]
    assert e["state"] == "raised"
    assert e["name"] == "high_error_rate"
    assert e["severity"] == "critical"
    assert e["value"] == 1.0 and e["threshold"] == 0.05
    assert [a["name"] for a in m.alerts()] == ["high_error_rate"]
    for _ in range(1000):
        m.record(100.0, True)
    transitions = m.evaluate()
    assert [t["state"] for t in transitions] == ["cleared"]
    assert [x["state"] for x in events] == ["raised", "cleared"]
    assert [x["seq"] for x in m.alert_history()] == [1, 2]
    assert m.alerts() == []


def test_callback_exceptions_are_logged_not_raised(caplog):
    m = Monitor(min_samples=1)
    calls = []

    def bad(event):
        raise RuntimeError("callback bug")

    m.on_alert(bad)
    m.on_alert(calls.append)
    m.record(100.0, False)
    with caplog.at_level(logging.ERROR):
        h = m.health()  # must not raise
    assert h["status"] != "healthy" or h["alerts"]
    assert len(calls) == 1, "later callbacks still run"
    assert any("callback bug" in r.getMessage() for r in caplog.records), caplog.records


def test_callback_may_use_the_monitor_and_other_threads():
    m = Monitor(min_samples=1)
    seen = []

    def cb(event):
        seen.append((event["state"], m.health()["metrics"]["requests"]))
        m.record(1.0, True)

    m.on_alert(cb)
    m.record(100.0, False)

    # Reads from several threads at once: callbacks take the GIL, no deadlock.
    threads = [threading.Thread(target=m.metrics) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert len(seen) == 1 and seen[0][0] == "raised"


def test_bad_input_raises_invalid_argument():
    m = Monitor()
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidArgumentError):
            m.record(bad, True)
    with pytest.raises(InvalidArgumentError):
        m.record_rate_limit_usage("nope", 0.5)
    with pytest.raises(InvalidArgumentError):
        m.record_rate_limit_usage("orders", -0.5)
    with pytest.raises(InvalidArgumentError):
        m.record_sync("orders", True, -1.0)
    with pytest.raises(InvalidArgumentError):
        m.on_alert(42)
    for kwargs in (
        {"window_seconds": 0},
        {"window_seconds": -5},
        {"window_seconds": 60, "slot_seconds": 7},
        {"error_rate": 2.0},
        {"sync_success_rate": 1.0},
        {"history_limit": 0},
    ):
        with pytest.raises(InvalidArgumentError) as info:
            Monitor(**kwargs)
        assert isinstance(info.value, (EmagApiError, ValueError))


def test_reset():
    m = Monitor()
    m.record(1.0, False)
    m.record_sync("orders", False)
    m.health()
    m.reset()
    x = m.metrics()
    assert (x["requests"], x["requests_total"], x["sync"]["runs"]) == (0, 0, 0)
    assert m.alert_history() == []


def test_exported():
    assert "Monitor" in magflow_emag.__all__
