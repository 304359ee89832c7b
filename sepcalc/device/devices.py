"""Devices for the roofline: peak compute per data type, memory bandwidth, on-chip memory, each
number with its source, read from a YAML file (the presets in ``presets/``, or a user's own).

A device file (docs/device.md)::

    name: my-board
    title: My board (Cortex-A72 at 1.5 GHz)
    peak:                       # dense peak, operations per second (2 per MAC)
      fp32: {dense: 48G, source: "4 cores x 1.5 GHz x 8 FLOP/cycle (vfpbench)"}
      int8: {dense: 96G, sparse: 192G, source: "..."}
    bandwidth: {value: 12.8G, source: "LPDDR4-3200, 32-bit"}   # bytes per second
    sram: {value: 320KiB, source: "..."}       # optional: on-chip memory
    flash: {value: 1MiB, source: "..."}        # optional
    efficiency: {value: 1, source: "the ideal roofline"}       # optional, 0 < e <= 1

Every number needs a ``source``. Problems are reported at their ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from sepcalc.device.dtypes import DTYPES
from sepcalc.device.units import QuantityError, amount, byte_count
from sepcalc.errors import Diagnostic, SepcalcError, SpecError, did_you_mean
from sepcalc.spec.loader import Locator, SpecPath, parse_yaml
from sepcalc.textfile import read_text

PRESETS_PACKAGE = "sepcalc.device"
PRESETS_DIR = "presets"


@dataclass(frozen=True)
class Sourced:
    """A number and where it comes from."""

    value: Fraction
    source: str


@dataclass(frozen=True)
class Peak:
    """Peak operations per second at one data type: dense, and with structured sparsity."""

    dense: Fraction
    source: str
    sparse: Fraction | None = None


@dataclass(frozen=True)
class Device:
    name: str
    title: str
    peak: Mapping[str, Peak]
    bandwidth: Sourced
    """Bytes per second between the compute and the memory that holds the tensors."""
    sram: Sourced | None = None
    flash: Sourced | None = None
    efficiency: Sourced = field(default_factory=lambda: Sourced(Fraction(1), "ideal roofline"))
    notes: str = ""
    file: str = ""

    def peak_of(self, dtype: str) -> Fraction:
        """The dense peak at ``dtype``; a SepcalcError names the types the device has."""
        if dtype not in self.peak:
            raise SepcalcError(
                f"device '{self.name}' gives no peak for {dtype} (it has "
                f"{', '.join(self.peak) or 'none'}): choose one of those types, or add "
                f"{dtype} to a device file of your own (docs/device.md)"
            )
        return self.peak[dtype].dense

    def ridge(self, dtype: str) -> Fraction:
        """The arithmetic intensity (FLOPs per byte) above which a layer is compute-bound."""
        return self.peak_of(dtype) / self.bandwidth.value


def preset_names() -> list[str]:
    """The built-in devices, by name."""
    folder = resources.files(PRESETS_PACKAGE).joinpath(PRESETS_DIR)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


DEVICE_FILE = "device file"
"""What a device file's errors are counted in."""


def get_device(name_or_path: str) -> Device:
    """A built-in device by name, or a device file (a path ending in .yaml/.yml)."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = read_text(path, "device file")
        except SepcalcError as exc:
            raise SepcalcError(f"{path}: {exc}") from None
        return parse_device(text, str(path))
    names = preset_names()
    if name_or_path not in names:
        raise SepcalcError(
            f"unknown device '{name_or_path}'{did_you_mean(name_or_path, names)}; built-in: "
            f"{', '.join(names)}, or give the path of a device file (.yaml)"
        )
    text = (
        resources.files(PRESETS_PACKAGE)
        .joinpath(PRESETS_DIR, f"{name_or_path}.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_device(text, f"sepcalc/device/presets/{name_or_path}.yaml")


_KEYS = ("name", "title", "peak", "bandwidth", "sram", "flash", "efficiency", "notes")


class _Reader:
    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self.problems: list[Diagnostic] = []

    def error(self, path: SpecPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.locator.diagnostic(path, message, key=key))

    def text(self, data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error((key,), f"{key}: expected a text" + (" (required)" if required else ""))
            return ""
        return value

    def sourced(
        self, data: Any, path: SpecPath, value_key: str, *, size: bool = False
    ) -> tuple[Fraction | None, str]:
        """``{value_key: NUMBER, source: TEXT}`` at ``path``."""
        where = ".".join(map(str, path))
        if not isinstance(data, dict):
            self.error(path, f"{where}: expected {{{value_key}: NUMBER, source: TEXT}}")
            return None, ""
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            self.error(path, f"{where}: every number needs a source (source: TEXT)")
        if value_key not in data:
            self.error(path, f"{where}: missing {value_key}")
            return None, ""
        try:
            number = Fraction(byte_count(data[value_key])) if size else amount(data[value_key])
        except QuantityError as exc:
            self.error((*path, value_key), f"{where}.{value_key}: {exc}")
            return None, ""
        if number <= 0:
            self.error((*path, value_key), f"{where}.{value_key}: must be positive")
            return None, ""
        return number, source if isinstance(source, str) else ""


def parse_device(text: str, file: str) -> Device:
    """A device from the text of its YAML file; SpecError lists every problem."""
    try:
        data, locator = parse_yaml(text, file)
    except SpecError as exc:
        raise SpecError(exc.diagnostics, DEVICE_FILE) from None
    reader = _Reader(locator)
    if not isinstance(data, dict):
        raise SpecError(
            [locator.diagnostic((), "a device file is a mapping: name, peak, ...")], DEVICE_FILE
        )
    for key in data:
        if key not in _KEYS:
            reader.error(
                (key,),
                f"unknown key '{key}'{did_you_mean(str(key), _KEYS)}; keys: {', '.join(_KEYS)}",
                key=True,
            )
    name = reader.text(data, "name")
    title = reader.text(data, "title", required=False) or name
    peaks: dict[str, Peak] = {}
    raw_peak = data.get("peak")
    if not isinstance(raw_peak, dict) or not raw_peak:
        reader.error(("peak",), "peak: give the dense peak of at least one data type, e.g. "
                     "fp32: {dense: 19.5T, source: ...}")  # fmt: skip
        raw_peak = {}
    for dtype, entry in raw_peak.items():
        if dtype not in DTYPES:
            reader.error(("peak", dtype), f"peak: unknown data type '{dtype}'"
                         f"{did_you_mean(str(dtype), DTYPES)}; types: {', '.join(DTYPES)}",
                         key=True)  # fmt: skip
            continue
        dense, source = reader.sourced(entry, ("peak", dtype), "dense")
        sparse = None
        if isinstance(entry, dict) and "sparse" in entry:
            try:
                sparse = amount(entry["sparse"])
            except QuantityError as exc:
                reader.error(("peak", dtype, "sparse"), f"peak.{dtype}.sparse: {exc}")
        if isinstance(entry, dict):
            for key in entry:
                if key not in ("dense", "sparse", "source"):
                    reader.error(("peak", dtype, key), f"peak.{dtype}: unknown key '{key}'; "
                                 "keys: dense, sparse, source", key=True)  # fmt: skip
        if dense is not None:
            peaks[str(dtype)] = Peak(dense, source, sparse)
    bandwidth, bw_source = reader.sourced(data.get("bandwidth"), ("bandwidth",), "value")
    optional: dict[str, Sourced | None] = {}
    for key in ("sram", "flash"):
        if key in data:
            value, source = reader.sourced(data[key], (key,), "value", size=True)
            optional[key] = Sourced(value, source) if value is not None else None
    efficiency = Sourced(Fraction(1), "the ideal roofline (default)")
    if "efficiency" in data:
        value, source = reader.sourced(data["efficiency"], ("efficiency",), "value")
        if value is not None and value > 1:
            reader.error(("efficiency", "value"), "efficiency.value: at most 1 (a fraction of "
                         "the roofline's peak)")  # fmt: skip
        elif value is not None:
            efficiency = Sourced(value, source)
    if reader.problems:
        raise SpecError(reader.problems, DEVICE_FILE)
    assert bandwidth is not None
    return Device(
        name=name,
        title=title,
        peak=peaks,
        bandwidth=Sourced(bandwidth, bw_source),
        sram=optional.get("sram"),
        flash=optional.get("flash"),
        efficiency=efficiency,
        notes=str(data.get("notes") or ""),
        file=file,
    )
