"""Progress display helpers for long batches on a terminal."""

from __future__ import annotations

from rich.progress import ProgressColumn, Task
from rich.text import Text


class RateColumn(ProgressColumn):
    """Documents per second, from rich's moving average."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:.1f} docs/s")
