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

    With ``trial``, a new entry first waits among at most that many others, the oldest
    dropped first, and joins the generations only when a later document uses it. Most of
    what one patient's document makes (lines, cells and sections holding the patient's
    own text) no other document uses; kept in the generations it would fill them, and
    memory would grow for thousands of documents before it levels off.
    """

    def __init__(self, limit: int, trial: int = 0) -> None:
        self.limit = limit
        self.trial_limit = trial
        self.newer: dict[Hashable, V] = {}
        self.older: dict[Hashable, V] = {}
        #: Entries on trial, each with the number of the document that made it.
        self.trial: dict[Hashable, tuple[V, int]] = {}
        self.document = 0

    def begin_document(self) -> None:
        """A new document begins: what earlier ones made and it uses again is kept."""
        self.document += 1

    def get(self, key: Hashable) -> V | None:
        value = self.newer.get(key)
        if value is not None:
            return value
        if (value := self.older.get(key)) is None:
            if (on_trial := self.trial.get(key)) is None:
                return None
            value, made_by = on_trial
            if made_by == self.document:
                return value
            del self.trial[key]
        self._keep(key, value)
        return value

    def put(self, key: Hashable, value: V) -> bool:
        """Keep ``value``; True when that began a new generation."""
        if not self.trial_limit:
            return self._keep(key, value)
        if len(self.trial) >= self.trial_limit:
            del self.trial[next(iter(self.trial))]
        self.trial[key] = (value, self.document)
        return False

    def _keep(self, key: Hashable, value: V) -> bool:
        turnover = len(self.newer) >= self.limit
        if turnover:
            self.older, self.newer = self.newer, {}
        self.newer[key] = value
        return turnover

    def __iter__(self) -> Iterator[Hashable]:
        """Every key kept now, once."""
        return iter({*self.newer, *self.older, *self.trial})
