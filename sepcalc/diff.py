"""What changed between two networks: totals and layers matched by name (``sepcalc diff``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from sepcalc.errors import EXIT_FAILED, EXIT_OK
from sepcalc.snapshot import FIELDS, LayerCounts, Snapshot


@dataclass(frozen=True)
class Change:
    """One count on both sides; None where a side does not have it (an added or removed layer)."""

    old: int | None
    new: int | None

    @property
    def delta(self) -> int:
        return (self.new or 0) - (self.old or 0)

    @property
    def relative(self) -> Fraction | None:
        """``delta / old``; None when there is nothing to compare against (old is 0 or absent)."""
        return Fraction(self.delta, self.old) if self.old else None


class LayerStatus(StrEnum):
    SAME = "same"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class LayerDiff:
    name: str
    status: LayerStatus
    old_kind: str | None
    new_kind: str | None
    changes: Mapping[str, Change]
    """Every field of :data:`~sepcalc.snapshot.FIELDS`."""


@dataclass(frozen=True)
class Diff:
    old: Snapshot
    new: Snapshot
    totals: Mapping[str, Change]
    layers: tuple[LayerDiff, ...]

    @property
    def flops_comparable(self) -> bool:
        """FLOPs compare only when both sides count them with the same convention."""
        return self.old.convention == self.new.convention

    def compared(self) -> tuple[str, ...]:
        """The fields compared: every one, except FLOPs counted under different conventions."""
        return compared_fields(self.old, self.new)

    def increased(self) -> tuple[str, ...]:
        """The totals that grew (FLOPs only when comparable)."""
        return tuple(f for f in self.compared() if self.totals[f].delta > 0)

    def count(self, status: LayerStatus) -> int:
        return sum(row.status is status for row in self.layers)

    def exit_code(self, *, fail_on_increase: bool = False) -> int:
        """1 when a total grew and that is to fail, else 0 (a diff shown is a success)."""
        return EXIT_FAILED if fail_on_increase and self.increased() else EXIT_OK


def compared_fields(old: Snapshot, new: Snapshot) -> tuple[str, ...]:
    """FLOPs compare only when both sides count them with the same convention."""
    return tuple(f for f in FIELDS if f != "flops" or old.convention == new.convention)


def _layer(
    name: str, old: LayerCounts | None, new: LayerCounts | None, compared: tuple[str, ...]
) -> LayerDiff:
    changes = {
        f: Change(old.counts[f] if old else None, new.counts[f] if new else None) for f in FIELDS
    }
    if old is None:
        status = LayerStatus.ADDED
    elif new is None:
        status = LayerStatus.REMOVED
    elif old.kind != new.kind or any(changes[f].delta for f in compared):
        status = LayerStatus.CHANGED
    else:
        status = LayerStatus.SAME
    return LayerDiff(name, status, old.kind if old else None, new.kind if new else None, changes)


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """Totals of both sides, and every layer of either side matched by name.

    Rows follow the new network's order; a removed layer comes right after the last layer that
    preceded it in the old network and still exists (or first, if none does). A layer whose only
    change is in FLOPs counted under another convention is the same.
    """
    compared = compared_fields(old, new)
    old_by_name = {row.name: row for row in old.layers}
    new_names = {row.name for row in new.layers}
    removed_after: dict[str | None, list[LayerCounts]] = {}
    anchor: str | None = None
    for row in old.layers:
        if row.name in new_names:
            anchor = row.name
        else:
            removed_after.setdefault(anchor, []).append(row)
    rows = [_layer(r.name, r, None, compared) for r in removed_after.get(None, [])]
    for row in new.layers:
        rows.append(_layer(row.name, old_by_name.get(row.name), row, compared))
        rows += [_layer(r.name, r, None, compared) for r in removed_after.get(row.name, [])]
    totals = {f: Change(old.totals[f], new.totals[f]) for f in FIELDS}
    return Diff(old, new, totals, tuple(rows))
