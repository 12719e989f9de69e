"""One scheduler over many follow and watch machines: whose request gets the client's next send.

A machine says when it wants to send (:meth:`Schedulable.wake`) and how much its requests matter now
(:attr:`Schedulable.weight`: a log whose lines flow, a first read, a drain after the end, weigh more than a quiet
log or a job that waits for capacity). Among the machines whose request is due, the scheduler picks by weighted fair
queueing: each request gets a finish tag ``max(V, previous tag) + 1 / weight`` when it becomes due, ``V`` being the
tag of the last request sent, and the smallest tag goes first. So when sends are scarce every due machine gets a
share of them in proportion to its weight, and none starves: a waiting request's tag is fixed while ``V`` moves
past it. When sends are plentiful every request goes as soon as it is due.

A machine can be *held* (a job's log is not read while the job cannot have lines yet); a held machine keeps its
place but is not picked. Pure: the caller passes the time and sends; nothing here waits.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

import attrs

from .actions import Action, Done
from .polling import DEADLINE_SLACK
from .requests import Request

__all__ = ["Schedulable", "Scheduler"]

K = TypeVar("K", bound=Hashable)


class Schedulable(Protocol):
    """What the scheduler needs of a machine (both the follow and the watch machine have it)."""

    @property
    def weight(self) -> float:
        """How much the machine's next request matters now: its share of sends when they are scarce."""
        ...

    def wake(self, now: float) -> float | None:
        """When the machine wants to send next (at or before ``now``: now), or ``None`` once it is done."""
        ...

    def next_request(self, now: float) -> Action:
        """The request to send now, a wait, or the end."""
        ...


@attrs.define
class _Entry:
    machine: Schedulable
    tag: float = 0.0  # the finish tag of its last request
    version: int = 0  # heap items of older versions are stale
    held: bool = False
    out: bool = False  # a request of it is being sent


class Scheduler(Generic[K]):
    """Machines by key; see the module documentation.

    Example:
        >>> from fwbatch_async._core.actions import Wait
        >>> class Every:  # a machine that wants to send every ``period`` seconds
        ...     def __init__(self, period: float, weight: float) -> None:
        ...         self.period, self.weight, self.due = period, weight, 0.0
        ...     def wake(self, now: float) -> float:
        ...         return self.due
        ...     def next_request(self, now: float) -> Request | Wait:
        ...         if now < self.due:
        ...             return Wait(self.due)
        ...         self.due = now + self.period
        ...         return Request("x", "/x")
        >>> scheduler = Scheduler[str]()
        >>> scheduler.add("busy", Every(0.0, weight=3.0), now=0.0)
        >>> scheduler.add("quiet", Every(0.0, weight=1.0), now=0.0)
        >>> picked = []
        >>> for _ in range(8):
        ...     key, _request = scheduler.next(0.0)
        ...     picked.append(key)
        ...     scheduler.answered(key, 0.0)
        >>> picked.count("busy"), picked.count("quiet")  # three sends to one, in turn: no starvation
        (6, 2)
    """

    def __init__(self) -> None:
        self._entries: dict[K, _Entry] = {}
        self._timers: list[tuple[float, int, int, K]] = []  # (due, order, version, key)
        self._ready: list[tuple[float, int, int, K]] = []  # (tag, order, version, key)
        self._order = itertools.count()
        self._virtual = 0.0  # the tag of the last request sent

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, key: K, machine: Schedulable, now: float) -> None:
        """Schedule ``machine`` under ``key``.

        Raises:
            ValueError: ``key`` is scheduled already.
        """
        if key in self._entries:
            raise ValueError(f"{key!r} is scheduled already")
        entry = _Entry(machine, tag=self._virtual)
        self._entries[key] = entry
        self._settle(key, entry, now)

    def remove(self, key: K) -> None:
        """Forget ``key`` (nothing happens if it is not scheduled)."""
        self._entries.pop(key, None)

    def hold(self, key: K, now: float, *, held: bool) -> None:
        """Hold ``key``'s machine (it keeps its place but is not picked) or let it go again."""
        entry = self._entries.get(key)
        if entry is None or entry.held == held:
            return
        entry.held = held
        if not entry.out:
            self._settle(key, entry, now)

    def touch(self, key: K, now: float) -> None:
        """The machine's state changed from outside (a follow was told its job finished): ask it again."""
        entry = self._entries.get(key)
        if entry is not None and not entry.out:
            self._settle(key, entry, now)

    def answered(self, key: K, now: float) -> None:
        """The request of ``key`` was answered and fed to its machine: schedule what it wants next."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.out = False
            self._settle(key, entry, now)

    def due(self, now: float) -> float | None:
        """When the next request is due (at or before ``now``: one is due now), or ``None`` if none will be."""
        self._promote(now)
        while self._ready:
            _, _, version, key = self._ready[0]
            entry = self._entries.get(key)
            if entry is not None and entry.version == version and not entry.held:
                return now
            heapq.heappop(self._ready)
        while self._timers:
            due, _, version, key = self._timers[0]
            entry = self._entries.get(key)
            if entry is not None and entry.version == version and not entry.held:
                return due
            heapq.heappop(self._timers)
        return None

    def next(self, now: float) -> tuple[K, Request | Exception] | None:
        """The key and request to send now, or ``None`` if none is due (see :meth:`due` for when one will be).

        The machine's request counts as out until :meth:`answered`. A machine that raised when asked (a wait's
        timeout) comes with its error instead, and leaves the schedule.
        """
        self._promote(now)
        while self._ready:
            tag, _, version, key = heapq.heappop(self._ready)
            entry = self._entries.get(key)
            if entry is None or entry.version != version or entry.held:
                continue
            try:
                action = entry.machine.next_request(now)
            except Exception as error:  # the machine's own end (a wait's timeout): the caller's to raise
                del self._entries[key]
                return key, error
            if isinstance(action, Request):
                self._virtual = max(self._virtual, tag)
                entry.out = True
                entry.version += 1
                return key, action
            if isinstance(action, Done):
                del self._entries[key]
            else:
                self._settle(key, entry, now)
        return None

    def _promote(self, now: float) -> None:
        """Move machines whose time has come from the timers to the ready queue, with their finish tags."""
        timers = self._timers
        while timers and timers[0][0] <= now + DEADLINE_SLACK:  # a clock in whole ns may never reach a float
            _, _, version, key = heapq.heappop(timers)
            entry = self._entries.get(key)
            if entry is None or entry.version != version or entry.held:
                continue
            entry.tag = max(self._virtual, entry.tag) + 1.0 / entry.machine.weight
            heapq.heappush(self._ready, (entry.tag, next(self._order), version, key))

    def _settle(self, key: K, entry: _Entry, now: float) -> None:
        due = entry.machine.wake(now)
        if due is None:
            del self._entries[key]
            return
        entry.version += 1
        if not entry.held:
            heapq.heappush(self._timers, (due, next(self._order), entry.version, key))
