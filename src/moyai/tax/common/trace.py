"""The explanation trace every tax computation keeps (pure; no Django, no I/O).

A clerk answering 「なぜこの税額なのか」 reads the steps in order: each has a stable ``key`` for
programs, a Japanese ``label``, the ``amount`` in yen (``int``), the ``basis`` (the arithmetic as
text, e.g. ``7,000,000 × 90% − 1,100,000``) and the ``law`` it follows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    amount: int
    basis: str = ""
    law: str = ""
    group: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "amount": self.amount,
            "basis": self.basis,
            "law": self.law,
            "group": self.group,
        }


@dataclass
class Trace:
    """An ordered list of steps; ``add`` returns the amount so a computation reads naturally."""

    steps: list[Step] = field(default_factory=list)

    def add(
        self, key: str, label: str, amount: int, basis: str = "", law: str = "", group: str = ""
    ) -> int:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"{key}: amounts are int yen, got {amount!r}")
        self.steps.append(Step(key, label, amount, basis, law, group))
        return amount

    def note(self, key: str, label: str, basis: str = "", law: str = "", group: str = "") -> None:
        """A step that explains a decision (e.g. 非課税) without an amount of its own."""
        self.steps.append(Step(key, label, 0, basis, law, group))

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def get(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]


def yen(amount: int) -> str:
    """``1234567`` → ``1,234,567`` (for ``basis`` texts)."""
    return f"{amount:,}"
