"""Cost of an uncontended RateLimiter.acquire through Python (goal <= 5 us), beside baselines
measured in the same run: a no-op method call on a Python object, and threading.Lock
acquire+release (what a pure-Python limiter would need at the very least).

A huge quota is used so that nothing ever waits. Prints medians of 7 rounds.
"""

from __future__ import annotations

import statistics
import threading
import time

from magflow_emag import RateLimiter

CALLS = 100_000
ROUNDS = 7


def per_call_us(fn) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            fn()
        samples.append((time.perf_counter() - start) / CALLS * 1e6)
    return statistics.median(samples)


class Noop:
    def acquire(self, bucket: str = "other") -> None:
        return None


def main() -> None:
    huge = 4_000_000_000
    rl = RateLimiter(orders_per_second=huge, orders_per_minute=huge,
                     other_per_second=huge, other_per_minute=huge)
    ours = per_call_us(lambda: rl.acquire("orders"))
    noop = Noop()
    base_call = per_call_us(lambda: noop.acquire("orders"))
    lock = threading.Lock()

    def lock_cycle() -> None:
        lock.acquire()
        lock.release()

    base_lock = per_call_us(lock_cycle)
    print("ratelimit_py: uncontended acquire through Python (median of 7 rounds)")
    print(f"  RateLimiter.acquire('orders'): {ours:.3} us (goal <= 5 us)")
    print(f"  baseline no-op Python method call: {base_call:.3} us | ratio {ours / base_call:.2f}x")
    print(f"  baseline threading.Lock acquire+release: {base_lock:.3} us | ratio {ours / base_lock:.2f}x")


if __name__ == "__main__":
    main()
