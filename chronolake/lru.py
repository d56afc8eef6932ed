"""A thread-safe least-recently-used map bounded by the total weight of its values.

The caches of catalog reads (weight 1 per entry), of small files' rows (bytes) and of delete
file positions (rows) all use it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    def __init__(self, max_weight: int, weight: Callable[[V], int] = lambda _: 1) -> None:
        self.max_weight = max_weight
        self._weight = weight
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` (replacing an entry under ``key``), then drop the least recently
        used entries while the total weight is above the bound (the newest always stays)."""
        w = self._weight(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            self._items[key] = (value, w)
            self._total += w
            while self._total > self.max_weight and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._total -= dropped

    def __len__(self) -> int:
        return len(self._items)

    @property
    def total(self) -> int:
        """The summed weight of the entries held."""
        return self._total

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0
