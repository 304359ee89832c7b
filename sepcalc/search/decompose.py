"""A search space as a chain of stages, each evaluated alone: the structure the exact answers use.

A network's totals are sums over its layers, so once a stage's input shape is known its cost
does not depend on the other stages' choices. The top-level entries are cut into *steps* where
a single tensor crosses: an entry's repeats take only the previous repeat's output, and no
later entry takes anything from before the cut. A step is

- a *stage*: one entry with choices whose repeats chain (``inputs`` not given). Its
  alternatives are the values of its once-per-stage choices (its depth among them); each is a
  chain of repeats, and every repeat has its own options (the values of the per-block
  choices), so a stage of depth 4 with 9 options per block is 4 small tables, never 9**4 rows;
- a *group*: entries whose choices cannot be separated (an entry that takes an earlier tensor
  by name, or repeats that do not chain): its assignments are enumerated, each built whole;
- *fixed* entries, without choices: one option.

Each option is built with the graph builder itself (the same shape rules and cost formulas as
``analyze``), on the input shape the dynamic program gives it, and memoized on that shape; a
repeat that calls a block is built once per evaluated arguments (OFA: 98 builds in all).
Where a stage's output shape depends on its choices, the program carries every shape.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.cost import Cost
from sepcalc.errors import SepcalcError, SpecError
from sepcalc.formulas import Shape
from sepcalc.formulas.base import numel
from sepcalc.graph import COUNT, FAILED, INPUT, Graph, Node, _Builder, _Scope, _Skip
from sepcalc.search.space import Choice, Space, Value, per_block_value, var_assignments
from sepcalc.spec.models import BlockCall, Each, LayerBase, layer_entry

if TYPE_CHECKING:
    from sepcalc.device import DeviceRequest

METRICS = ("macs", "params", "flops", "activations")
"""The totals every space reports."""
DEVICE_METRICS = ("latency", "flash", "peak_memory")
"""The device model's totals (docs/device.md), carried when a device request is given:
``latency`` in ticks of :attr:`Decomposition.tick` seconds (a whole number: every layer's
roofline time is a multiple of it), ``flash`` and ``peak_memory`` in bytes."""
VEC = (*METRICS, *DEVICE_METRICS)
"""The totals every option carries, in this order (the device ones 0 without a device)."""
SUMMED = frozenset(VEC) - {"peak_memory"}
"""The totals that add up along the chain; peak memory is the largest of the stages' peaks."""
PEAK = VEC.index("peak_memory")
MAX_GROUP_OPTIONS = 100_000
"""The most assignments a group of entries that cannot be split may have."""
CUT = "\x00cut"
"""The name of the tensor entering a step (no layer can have it)."""

Vec = tuple[int, ...]
Label = tuple[str, int | None, Value]
"""(choice name, repeat index for a per-block choice or None, value)."""


@dataclass(frozen=True)
class Option:
    labels: tuple[Label, ...]
    out: Shape
    vec: Vec


@dataclass(frozen=True)
class Failed:
    """An option that does not build (its diagnostic); the commands leave it out and say so."""

    labels: tuple[Label, ...]
    message: str


@dataclass(frozen=True)
class Sub:
    """One link of a chain: a repeat of a stage, or a whole group of entries."""

    entries: tuple[int, ...]
    repeat_index: int | None
    """For a stage's repeat: its index (the entry is ``entries[0]``); None: whole entries."""
    repeat: int
    stage: tuple[Label, ...]
    """The stage's per-stage choices (their values hold for every repeat)."""
    choices: tuple[Choice, ...]
    """What this link chooses: a repeat's per-block choices, or every choice of a group."""
    first: bool
    """The first link of its step (the one that may take the previous entry by name)."""


@dataclass(frozen=True)
class Alternative:
    labels: tuple[Label, ...]
    subs: tuple[Sub, ...]


@dataclass(frozen=True)
class Step:
    entries: tuple[int, ...]
    kind: str
    """'stage', 'group' or 'fixed'."""


@dataclass
class Chain:
    """One assignment of the var choices: its values, its input shape, its steps."""

    labels: tuple[Label, ...]
    env: dict[str, Any]
    input_shape: Shape


def combine(a: Vec, b: Vec) -> Vec:
    """The totals of two consecutive parts: sums, and the larger peak memory."""
    out = [x + y for x, y in zip(a, b, strict=True)]
    out[PEAK] = max(a[PEAK], b[PEAK])
    return tuple(out)


class TooLarge(SepcalcError):
    """An exact table would exceed its limit; the message says which and why."""


@dataclass
class Stats:
    builds: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """A failing option's choices (as text) and its diagnostic, the first of each message."""


class Decomposition:
    """A space cut into steps, with every option's output shape and totals, memoized."""

    def __init__(
        self, space: Space, convention: Convention = DEFAULT, device: DeviceRequest | None = None
    ) -> None:
        self.space = space
        self.convention = convention
        self.device = device
        """With a device request: each option also carries its latency (on a device), flash
        and peak memory, from the same rules as ``analyze --device``."""
        self.tick = _tick(device)
        """Seconds per unit of the ``latency`` total."""
        self.spec = space.template.spec
        self.steps = tuple(_steps(space))
        self.stats = Stats()
        self._models: dict[Any, LayerBase] = {}
        self._options: dict[Any, tuple[list[Option], list[Failed]]] = {}
        self._alternatives: dict[Any, list[Alternative]] = {}
        self._calls: dict[Any, tuple[Shape, Vec]] = {}
        self._adapter: TypeAdapter[Any] = TypeAdapter(layer_entry())

    # --- chains: one per assignment of the vars --------------------------------------------

    def chains(self) -> Iterator[Chain]:
        for values in var_assignments(self.space):
            yield self.chain(values)

    def chain(self, values: Mapping[str, Value]) -> Chain:
        b = _Builder(self.spec, self.space.locator)
        env = b.resolve_vars(dict(values))
        shape = b.input_shape(env)
        if b.diagnostics or shape is None:
            raise SpecError(b.diagnostics)
        labels = tuple((name, None, v) for name, v in values.items())
        return Chain(labels, env, shape)

    @property
    def var_count(self) -> int:
        n = 1
        for c in self.space.var_choices:
            n *= len(c.values)
        return n

    # --- steps -----------------------------------------------------------------------------

    def alternatives(self, step: Step, env: Mapping[str, Any]) -> list[Alternative]:
        """A step's alternatives under var values ``env``."""
        key = (step.entries, _env_key(env))
        if key in self._alternatives:
            return self._alternatives[key]
        if step.kind == "stage":
            found = self._stage_alternatives(step.entries[0], env)
        else:
            choices = tuple(c for j in step.entries for c in self.space.entry_choices(j))
            found = [Alternative((), (Sub(step.entries, None, 0, (), choices, True),))]
        self._alternatives[key] = found
        return found

    def _stage_alternatives(self, entry: int, env: Mapping[str, Any]) -> list[Alternative]:
        choices = self.space.entry_choices(entry)
        once = [c for c in choices if c.per != "block"]
        each = tuple(c for c in choices if c.per == "block")
        found = []
        for combo in itertools.product(*(c.values for c in once)):
            stage = tuple((c.name, None, v) for c, v in zip(once, combo, strict=True))
            repeat = self._repeat(entry, env, stage)
            subs = tuple(Sub((entry,), i, repeat, stage, each, i == 0) for i in range(repeat))
            found.append(Alternative(stage, subs))
        return found

    def _repeat(self, entry: int, env: Mapping[str, Any], stage: tuple[Label, ...]) -> int:
        for name, _, value in stage:
            if name == f"{self.space.label(entry)}.repeat":
                return int(value)
        b = _Builder(self.spec, self.space.locator)
        try:
            return b.integer(
                ("layers", entry, "repeat"), self.spec.layers[entry].repeat, env, COUNT
            )
        except _Skip:
            raise SpecError(b.diagnostics) from None

    def options(
        self, sub: Sub, env: Mapping[str, Any], shape: Shape
    ) -> tuple[list[Option], list[Failed]]:
        """Every option of a link on an input of ``shape``: built, memoized."""
        key = (self._build_key(sub), _env_key(env), shape)
        found = self._options.get(key)
        if found is not None:
            return found
        ok: list[Option] = []
        bad: list[Failed] = []
        for labels in self._assignments(sub, env):
            result = self._build(sub, env, shape, labels)
            if isinstance(result, str):
                bad.append(Failed(labels, result))
                self.stats.failed.setdefault(result, _show_labels(labels))
            else:
                ok.append(Option(labels, *result))
        self._options[key] = (ok, bad)
        return ok, bad

    def _build_key(self, sub: Sub) -> Any:
        """What a link's options depend on. A stage's repeat i builds the same whatever the
        stage's depth (no expression sees the depth; only whether it repeats at all changes
        the layers' names), so its options are listed once for every depth."""
        if sub.repeat_index is None:
            return sub
        depth = f"{self.space.label(sub.entries[0])}.repeat"
        stage = tuple(label for label in sub.stage if label[0] != depth)
        return (sub.entries, sub.repeat_index, sub.repeat > 1, stage, sub.choices, sub.first)

    def option_count(self, sub: Sub, env: Mapping[str, Any]) -> int:
        """How many options a link has (built or not): the choice-uniform sampler's divisor."""
        return sum(1 for _ in self._assignments(sub, env))

    def _assignments(self, sub: Sub, env: Mapping[str, Any]) -> Iterator[tuple[Label, ...]]:
        if sub.repeat_index is not None:
            for combo in itertools.product(*(c.values for c in sub.choices)):
                yield tuple(
                    (c.name, sub.repeat_index, v) for c, v in zip(sub.choices, combo, strict=True)
                )
            return
        # a group: the repeat choices first, then one value per repeat of per-block choices
        once = [c for c in sub.choices if c.per != "block"]
        each = [c for c in sub.choices if c.per == "block"]
        count = 0
        for combo in itertools.product(*(c.values for c in once)):
            stage = tuple((c.name, None, v) for c, v in zip(once, combo, strict=True))
            per_entry = {}
            for j in {c.entry for c in each}:
                assert j is not None
                per_entry[j] = self._repeat(
                    j, env, tuple(s for s in stage if s[0].startswith(f"{self.space.label(j)}."))
                )
            # an entry without repeats still gets a value (its first), as assignment_of gives
            spaces = [
                itertools.product(c.values, repeat=per_entry[c.entry])  # type: ignore[index]
                if per_entry[c.entry]  # type: ignore[index]
                else [(c.values[0],)]
                for c in each
            ]
            for tuples in itertools.product(*spaces):
                count += 1
                if count > MAX_GROUP_OPTIONS:
                    names = ", ".join(self.space.label(j) for j in sub.entries)
                    raise TooLarge(
                        f"the entries {names} cannot be split into stages (one takes an "
                        "earlier layer by name, or their repeats take other inputs), and together "
                        f"they have more than {MAX_GROUP_OPTIONS:,} assignments"
                    )
                yield stage + tuple((c.name, None, t) for c, t in zip(each, tuples, strict=True))

    # --- building one option ---------------------------------------------------------------

    def _model(self, entry: int, values: Mapping[str, Value]) -> LayerBase:
        key = (entry, tuple(sorted((k, repr(v)) for k, v in values.items())))
        model = self._models.get(key)
        if model is None:
            raw = dict(self.space.data["layers"][entry])
            for c in self.space.entry_choices(entry):
                value = values[c.name]
                if isinstance(value, tuple):
                    value = per_block_value(c, value)
                raw[c.key] = _plain(value)
            try:
                model = self._adapter.validate_python(raw)
            except ValidationError as exc:  # checked when the space loaded; a safeguard
                raise SepcalcError(f"layers.{entry}: {exc.errors()[0]['msg']}") from None
            self._models[key] = model
        return model

    def _build(
        self, sub: Sub, env: Mapping[str, Any], shape: Shape, labels: tuple[Label, ...]
    ) -> tuple[Shape, Vec] | str:
        values = {name: value for name, _, value in (*sub.stage, *labels)}
        key = self._call_key(sub, env, shape, values)
        found = self._calls.get(key) if key is not None else None
        if found is not None:
            return found
        result = self._build_new(sub, env, shape, values)
        if key is not None and not isinstance(result, str):  # a message names the layer
            self._calls[key] = result
        return result

    def _call_key(
        self, sub: Sub, env: Mapping[str, Any], shape: Shape, values: Mapping[str, Value]
    ) -> Any:
        """What a stage's repeat that calls a block builds from: the block, its arguments as
        evaluated (its layers see nothing else of the repeat, not even ``i``), its input shape
        and the vars. OFA's blocks after a stage's first have the same arguments, so each is
        built once. None: not such a call, or its condition or arguments do not evaluate (the
        build says why)."""
        if sub.repeat_index is None or len(sub.entries) != 1:
            return None
        (j,) = sub.entries
        model = self._model(j, {k: v for k, v in values.items() if _of(self.space, k, j)})
        if not isinstance(model, BlockCall) or model.inputs is not None:
            return None
        block = self.spec.blocks.get(model.block)
        if block is None:
            return None
        b = _Builder(self.spec, self.space.locator)
        b.globals = dict(env)
        call_env = {**env, "i": sub.repeat_index}
        try:
            if model.when is not None and not b.when(("layers", j, "when"), model.when, call_env):
                return None
            bound = b.bind(block, model, ("layers", j), call_env)
        except _Skip:
            return None
        if b.diagnostics:
            return None
        args = tuple(sorted((k, repr(v)) for k, v in bound.items()))
        return (j, model.block, args, shape, _env_key(env))

    def _build_new(
        self, sub: Sub, env: Mapping[str, Any], shape: Shape, values: Mapping[str, Value]
    ) -> tuple[Shape, Vec] | str:
        self.stats.builds += 1
        b = _Builder(self.spec, self.space.locator)
        b.globals = dict(env)
        b.input_dims = len(shape) - 1
        b.shapes[CUT] = shape
        scope = _Scope(dict(env), "", CUT, CUT)
        if sub.first:
            previous = self._previous_names(sub.entries[0])
            scope.names.update(dict.fromkeys(previous, CUT))
        try:
            for j in sub.entries:
                model = self._model(j, {k: v for k, v in values.items() if _of(self.space, k, j)})
                path = ("layers", j)
                if sub.repeat_index is not None:
                    b.repetition(model, path, scope, sub.repeat_index, sub.repeat)
                    continue
                repeat = self._repeat(j, env, tuple((k, None, v) for k, v in values.items()))
                for i in range(repeat):
                    b.repetition(model, path, scope, i, repeat)
                if model.name is not None and scope.prev != FAILED:
                    scope.names[model.name] = scope.prev
        except SpecError as exc:
            return exc.diagnostics[0].message if exc.diagnostics else str(exc)
        if b.diagnostics or scope.prev == FAILED:
            return str(b.diagnostics[0]) if b.diagnostics else "does not build"
        out = b.shapes[scope.prev]
        assert out is not None
        cost = sum((n.cost for n in b.nodes), Cost())
        vec = (cost.macs, cost.params, self.convention.flops(cost), cost.activations)
        return out, vec + self._device_totals(shape, out, b.nodes)

    def _device_totals(self, shape: Shape, out: Shape, nodes: Sequence[Node]) -> Vec:
        """(latency ticks, flash, peak memory) of one option: the device model run on its
        nodes alone, its input (the tensor crossing the cut) held from the start.

        Peak memory decomposes exactly: at a single-tensor cut only that tensor is alive (no
        later layer reads anything before it), so the network's peak is the largest of the
        options' peaks, each walked with the cut tensor as its input (held until its last
        reader in the option) and its output kept for the next step."""
        request = self.device
        if request is None:
            return (0, 0, 0)
        from sepcalc.device.memory import memory
        from sepcalc.device.roofline import roofline

        graph = Graph("", shape, {}, tuple(nodes))
        moved = memory(
            graph, request.precision, request.batch, convention=request.convention, source=CUT
        )
        _check_cut_buffer(shape, out, nodes)
        ticks = 0
        if request.device is not None:
            time = roofline(
                graph, request.device, request.precision, request.batch, request.efficiency, moved
            ).time
            scaled = time / self.tick
            assert scaled.denominator == 1, "a roofline time is a whole number of ticks"
            ticks = scaled.numerator
        return (ticks, moved.flash, moved.peak)

    def _previous_names(self, entry: int) -> list[str]:
        """The names by which an entry may take the previous entry's output."""
        if entry == 0:
            return []
        raw = self.space.data["layers"][entry - 1]
        name = raw.get("name") if isinstance(raw, dict) else None
        return [name] if isinstance(name, str) else []


def _tick(request: DeviceRequest | None) -> Fraction:
    """A time every roofline time on the request's device is a whole multiple of:
    max(F / peak, B / bandwidth) / efficiency has a denominator dividing
    numerator(peak) * numerator(efficiency) or numerator(bandwidth) * numerator(efficiency)."""
    if request is None or request.device is None:
        return Fraction(1)
    device = request.device
    peak = device.peak_of(request.precision.compute)
    eff = device.efficiency.value if request.efficiency is None else Fraction(request.efficiency)
    bandwidth = Fraction(device.bandwidth.value)
    return Fraction(1, math.lcm(peak.numerator, bandwidth.numerator) * eff.numerator)


def _check_cut_buffer(shape: Shape, out: Shape, nodes: Sequence[Node]) -> None:
    """Refuse a step whose output is a view (a slice) of a larger buffer: that buffer, not the
    tensor crossing the cut, is what stays alive, and the stages' peaks would not add up."""
    if not nodes:
        return
    from sepcalc.device.memory import traffic

    size = {CUT: numel(shape)}
    root = {CUT: CUT}
    for node in nodes:
        if traffic(node).view:
            root[node.name] = root[node.inputs[0]]
        else:
            root[node.name] = node.name
            size[node.name] = numel(node.output_shape)
    last = nodes[-1].name
    if size[root[last]] != numel(out):
        raise TooLarge(
            f"the output of the step ending at layer {last} is a view of a larger tensor "
            f"({size[root[last]]:,} elements, the view {numel(out):,}), which stays alive "
            "into the next step: peak memory does not split into stages exactly there"
        )


def choice_weight(space: Space, labels: Sequence[Label]) -> Fraction:
    """The probability that drawing every choice uniformly and independently (OFA's sampler)
    gives these labels: 1/n per choice of n values, once per repeat for a per-block choice."""
    sizes = {c.name: len(c.values) for c in space.choices}
    weight = Fraction(1)
    for name, _, value in labels:
        draws = len(value) if isinstance(value, tuple) else 1
        weight /= sizes[name] ** draws
    return weight


def _of(space: Space, choice_name: str, entry: int) -> bool:
    return any(c.name == choice_name and c.entry == entry for c in space.choices)


def _plain(value: Value) -> Any:
    from sepcalc.search.space import _yaml_ready

    return _yaml_ready(value)


def _env_key(env: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, repr(v)) for k, v in env.items()))


def _show_labels(labels: Sequence[Label]) -> str:
    from sepcalc.search.space import show_value

    parts = []
    for name, i, v in labels:
        where = f"{name}[{i}]" if i is not None else name
        parts.append(f"{where}={show_value(v)}")
    return ", ".join(parts) or "(no choice)"


# --- cutting the top level into steps ---------------------------------------------------------


def _references(entry: LayerBase) -> set[str]:
    """The names an entry takes as inputs or refers to (``like:``); 'input' included."""
    refs: set[str] = set()
    items = entry.inputs if isinstance(entry.inputs, list) else [entry.inputs]
    for item in items:
        if isinstance(item, Each):
            refs.add(item.each)
        elif isinstance(item, str):
            refs.add(item)
    for key, value in entry:
        if key == "like" and isinstance(value, str):
            refs.add(value)
    return refs


def cuts(space: Space) -> list[bool]:
    """For every top-level entry j, whether a single tensor (entry j - 1's output, or the input
    for j = 0) is all that entries j, j + 1, ... take from before j."""
    layers = space.template.spec.layers
    names = [e.name for e in layers]
    ok = [True] * len(layers)
    for k, entry in enumerate(layers):
        for ref in _references(entry):
            if ref == INPUT:
                lowest = -1
            elif ref in names[:k]:
                lowest = max(i for i in range(k) if names[i] == ref)
            else:
                lowest = -1  # an automatic name (conv3) or unknown: no cut before k
            # entry k takes the output of entry `lowest`: no cut at j for lowest < j - 1 < k
            for j in range(max(lowest + 2, 1), k + 1):
                ok[j] = False
    return ok


def _steps(space: Space) -> Iterator[Step]:
    layers = space.template.spec.layers
    cut = cuts(space)
    groups: list[list[int]] = []
    for j in range(len(layers)):
        if j == 0 or cut[j]:
            groups.append([j])
        else:
            groups[-1].append(j)
    for group in groups:
        with_choices = [j for j in group if space.entry_choices(j)]
        if not with_choices:
            yield Step(tuple(group), "fixed")
            continue
        # entries without choices around a single stage become steps of their own
        if len(group) == 1 and layers[group[0]].inputs is None:
            yield Step(tuple(group), "stage")
        else:
            yield Step(tuple(group), "group")
