"""The one place that changes WeasyPrint: functions stood in for during a render, under one lock.

Each acceleration of this package names its :class:`Target`: the attribute of a
WeasyPrint or pydyf module or class it stands in for, where the function found there is
defined and the signature it was written against. :func:`exclusively` is the only code
that sets those attributes. It takes the process-wide render lock, installs a render's
:class:`Replacement` objects (and anything else that must only live for one render, such
as its log collector), runs the render, and puts everything back and releases the lock
however the render ends.

Every render holds the lock, plain ones too: a plain render running while another
thread's replacements are installed would use them. So renders from several threads are
correct and take turns; processes give throughput.

A render's time limit (:func:`dn_docs.limits.time_limit`) and Celery's soft time limit
raise their exception from a signal handler, in the main thread, between any two steps
of Python code. An exception between taking the lock and installing, or between
removing and releasing, would leave WeasyPrint changed or the lock taken for good. So
while the lock and the functions change hands, the main thread's signal handlers only
note a signal; the noted signals are handled as soon as the change is complete, inside
the render (which then stops as usual) or after everything is back. The code that leaves
this guard is written so that nothing can run between the render's end and the guard
being raised again (see :func:`exclusively`).
"""

from __future__ import annotations

import inspect
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol, TypeVar

from ...errors import RenderError

T = TypeVar("T")

#: Held by every render in this process, accelerated or not.
_RENDER_LOCK = threading.Lock()
#: How long a wait for the lock goes before looking at the signals noted meanwhile.
_WAIT_SECONDS = 0.05
#: The gate of the render that holds the lock, if any.
_current: list[_Gate] = []


class NestedRenderError(RenderError):
    """A render was started inside a render of the same thread (a caller's mistake)."""


def _missing() -> None:
    """Stands for an attribute a target's owner did not have when dn-docs started."""


def _function_of(found: Any) -> Any:
    return found.fget if isinstance(found, property) else found


@dataclass(frozen=True)
class Target:
    """An attribute of WeasyPrint or pydyf that an acceleration stands in for.

    ``origin`` is where the function found there is defined (``module.qualname``) and
    ``signature`` the signature it was written against, as :func:`inspect.signature`
    prints it. ``original`` is what the attribute held when this module was imported:
    what every render puts back.
    """

    owner: Any
    name: str
    origin: str
    signature: str
    original: Any = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "original", inspect.getattr_static(self.owner, self.name, _missing)
        )

    def __str__(self) -> str:
        owner = self.owner
        prefix = (
            owner.__name__ if inspect.ismodule(owner) else owner.__module__ + "." + owner.__name__
        )
        return f"{prefix}.{self.name}"

    def problem(self) -> str | None:
        """Why the attribute is not what the acceleration was written against; None if it is."""
        found = inspect.getattr_static(self.owner, self.name, _missing)
        if found is _missing:
            return f"{self} is missing"
        function = _function_of(found)
        origin = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
        if origin != self.origin:
            return f"{self} is {origin}, expected {self.origin}"
        try:
            signature = str(inspect.signature(function))
        except (TypeError, ValueError):
            signature = "(unreadable)"
        if signature != self.signature:
            return f"{self} has the signature {signature}, expected {self.signature}"
        return None

    def unchanged(self) -> bool:
        """Whether the attribute still holds what it held when dn-docs started."""
        return inspect.getattr_static(self.owner, self.name, _missing) is self.original


class Installable(Protocol):
    """Something that exists only while one render holds the lock."""

    def install(self) -> None: ...

    def remove(self) -> None: ...


@dataclass(frozen=True)
class Replacement:
    """What stands in for ``target`` during a render.

    ``function`` is set on the owner as it is: a function on a class becomes a method,
    a property stays one.
    """

    target: Target
    function: Any

    def install(self) -> None:
        setattr(self.target.owner, self.target.name, self.function)

    def remove(self) -> None:
        setattr(self.target.owner, self.target.name, self.target.original)


Handler = Callable[[int, FrameType | None], Any]


class _Guard:
    """The main thread's signal handlers, made to wait while ``holding`` is true.

    From the start of a render to its end each Python signal handler is replaced by
    :meth:`handle`, which passes the signal on, or only notes it while ``holding``.
    Outside the main thread no signal handler ever runs, so nothing is replaced.
    """

    def __init__(self) -> None:
        self.holding = True
        self.noted: list[int] = []
        self.handlers: dict[int, Handler] = {}
        # One bound method, so that it can be recognised again.
        self.handle: Handler = self._handle
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            for signum in signal.valid_signals():
                handler = _handler(signum)
                if handler is not None:
                    # Runs the signals pending so far first: an exception from one
                    # comes before anything is held.
                    signal.signal(signum, self.handle)
                    self.handlers[signum] = handler
        except BaseException:
            self.restore()
            raise

    def _handle(self, signum: int, frame: FrameType | None) -> Any:
        if self.holding:
            self.noted.append(signum)
            return None
        return self.handlers[signum](signum, frame)

    def release(self) -> None:
        """Stop holding: the noted signals are handled now (their handlers may raise)."""
        self.holding = False
        while self.noted:
            signum = self.noted.pop(0)
            self.handlers[signum](signum, None)

    def restore(self) -> None:
        """Put the handlers back, then handle the signals noted meanwhile."""
        # A handler left behind by an exception from the next line passes signals on.
        self.holding = False
        for signum, handler in self.handlers.items():
            if signal.getsignal(signum) is self.handle:
                signal.signal(signum, handler)
        self.release()


def _handler(signum: int) -> Handler | None:
    """The Python handler of ``signum`` (a guard's left behind is looked through)."""
    try:
        handler = signal.getsignal(signum)
    except (OSError, ValueError):
        return None
    if not callable(handler):
        return None
    guard = getattr(handler, "__self__", None)
    if isinstance(guard, _Guard) and signum in guard.handlers:
        return guard.handlers[signum]
    return handler


class _Gate:
    """One render's hold on the lock, with what it installed."""

    def __init__(self, installables: Sequence[Installable], targets: Sequence[Target]) -> None:
        self.thread = threading.get_ident()
        if _current and _current[0].thread == self.thread:
            raise NestedRenderError("a render was started inside a render of the same thread")
        self.guard = _Guard()
        self.locked = False
        self.installed: list[Installable] = []
        self.accelerated = False
        try:
            while not _RENDER_LOCK.acquire(timeout=_WAIT_SECONDS):
                self.guard.release()  # a time limit that expired while waiting
                self.guard.holding = True
            self.locked = True
            _current.append(self)
            # With the lock held no other render has replaced anything. A target that
            # does not hold its original now was replaced by something other than dn-docs
            # after it started: the render is then done without replacements.
            self.accelerated = all(target.unchanged() for target in targets)
            for installable in installables:
                if self.accelerated or not isinstance(installable, Replacement):
                    installable.install()
                    self.installed.append(installable)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Remove what was installed, release the lock, then handle the noted signals."""
        self.guard.holding = True
        try:
            while self.installed:
                self.installed[-1].remove()
                self.installed.pop()
            if self.locked:
                _current.clear()
                self.locked = False
                _RENDER_LOCK.release()
        finally:
            self.guard.restore()


def exclusively(
    work: Callable[[bool], T],
    installables: Sequence[Installable] = (),
    targets: Sequence[Target] = (),
) -> T:
    """``work(accelerated)`` holding the render lock, with ``installables`` installed.

    ``accelerated`` is False, and no :class:`Replacement` is installed, when one of
    ``targets`` no longer holds what it held when dn-docs started.
    """
    gate = _Gate(installables, targets)
    try:
        gate.guard.release()
        return work(gate.accelerated)
    finally:
        # First, and a plain assignment: no signal handler can run before it.
        gate.guard.holding = True
        gate.close()


def _after_fork() -> None:
    """In a child forked while another thread rendered: that render is not there to end."""
    global _RENDER_LOCK
    if not _current:
        return
    gate = _current.pop()
    while gate.installed:
        gate.installed.pop().remove()
    gate.guard.holding = False  # its handlers, if any, pass every signal on
    _RENDER_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def lock_is_free() -> bool:
    """Whether no render holds the lock now (for tests and diagnostics)."""
    return not _RENDER_LOCK.locked()
