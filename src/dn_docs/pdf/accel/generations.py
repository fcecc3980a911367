"""What the warm renderer keeps between documents, in two generations.

Lines (:mod:`.linebreaks`) and section layouts (:mod:`.sections`) are kept the same
way: what a later document uses again stays, what only one patient's document used
goes, and memory stays bounded however many documents a worker renders.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class Reuse:
    """How often something was found already made (for tests and the benchmark)."""

    hits: int = 0
    misses: int = 0


class Generations(Generic[V]):
    """At most ``limit`` entries in each of two generations.

    When the newer generation is full it becomes the older one, and the older one is
    dropped. An entry found in the older generation moves to the newer one, so
    whatever is used again survives every turnover.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.newer: dict[Hashable, V] = {}
        self.older: dict[Hashable, V] = {}

    def get(self, key: Hashable) -> V | None:
        value = self.newer.get(key)
        if value is None and (value := self.older.get(key)) is not None:
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> bool:
        """Keep ``value``; True when that began a new generation."""
        turnover = len(self.newer) >= self.limit
        if turnover:
            self.older, self.newer = self.newer, {}
        self.newer[key] = value
        return turnover

    def __iter__(self) -> Iterator[Hashable]:
        """Every key kept now, once."""
        return iter({*self.newer, *self.older})
