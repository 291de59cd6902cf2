"""A small terminal progress bar for sync and backup progress events (no dependencies)."""

from __future__ import annotations

import sys
from typing import Any, Dict, Optional, TextIO


def _fmt_seconds(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:4.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


class ProgressBar:
    """Call with each progress dict (``items``, ``expected_items``, ``rate_items_per_s``, ``eta_s``)."""

    def __init__(self, label: str, stream: Optional[TextIO] = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_line = ""

    def __call__(self, event: Dict[str, Any]) -> None:
        items = int(event.get("items", 0))
        expected = event.get("expected_items")
        rate = float(event.get("rate_items_per_s") or 0.0)
        if expected:
            done = min(1.0, items / max(1, int(expected)))
            filled = int(done * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            count = f"{items}/{expected}"
        else:
            bar = "?" * 0 + "." * self.width
            count = f"{items}"
        line = (
            f"{self.label:<8} [{bar}] {count:>11}  {rate:7.0f}/s  "
            f"ETA {_fmt_seconds(event.get('eta_s'))}"
            + (f"  pages {event['pages_done']}" if "pages_done" in event else "")
        )
        self._last_line = line
        if self.interactive:
            self.stream.write("\r" + line)
            self.stream.flush()

    def finish(self) -> None:
        if self._last_line:
            self.stream.write(("\r" if self.interactive else "") + self._last_line + "\n")
            self.stream.flush()
