"""What a network costs on hardware: bytes moved, peak activation memory, flash, and roofline
latency on named devices (docs/device.md).

- :mod:`~sepcalc.device.dtypes`: data types and the precision of weights and activations;
- :mod:`~sepcalc.device.memory`: bytes each layer reads and writes (from each kind's declared
  traffic) and peak memory over the graph in execution order, under named conventions;
- :mod:`~sepcalc.device.devices`: device files (presets in ``presets/``, each number sourced);
- :mod:`~sepcalc.device.roofline`: time = max(FLOPs / peak, bytes / bandwidth) / efficiency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from sepcalc.device.devices import Device, get_device, parse_device, preset_names
from sepcalc.device.dtypes import DTYPES, Precision
from sepcalc.device.memory import CONVENTIONS, LayerMemory, Memory, memory
from sepcalc.device.roofline import KindTime, LayerTime, Roofline, roofline, shares
from sepcalc.graph import Graph

__all__ = [
    "CONVENTIONS",
    "DTYPES",
    "Device",
    "DeviceAnalysis",
    "DeviceRequest",
    "KindTime",
    "LayerMemory",
    "LayerTime",
    "Memory",
    "Precision",
    "Roofline",
    "device_analysis",
    "get_device",
    "memory",
    "parse_device",
    "preset_names",
    "roofline",
    "shares",
]


@dataclass(frozen=True)
class DeviceAnalysis:
    """A network at one precision and batch: its bytes and peak memory, and, on a device, its
    roofline times."""

    memory: Memory
    roofline: Roofline | None = None

    def metrics(self) -> dict[str, Fraction | int]:
        """The totals a budget can bound: ``peak_memory`` and ``flash`` (bytes), and ``latency``
        (seconds) on a device."""
        found: dict[str, Fraction | int] = {
            "peak_memory": self.memory.peak,
            "flash": self.memory.flash,
        }
        if self.roofline is not None:
            found["latency"] = self.roofline.time
        return found


def device_analysis(
    graph: Graph,
    precision: Precision,
    batch: int = 1,
    *,
    convention: str = "plain",
    device: Device | None = None,
    efficiency: Fraction | None = None,
) -> DeviceAnalysis:
    """Bytes and peak memory of ``graph`` and, with a device, its roofline."""
    moved = memory(graph, precision, batch, convention=convention)
    times = None
    if device is not None:
        times = roofline(graph, device, precision, batch, efficiency, moved)
    return DeviceAnalysis(moved, times)


@dataclass(frozen=True)
class DeviceRequest:
    """What a command was asked to cost on hardware (parsed options)."""

    precision: Precision = field(default_factory=Precision)
    batch: int = 1
    convention: str = "plain"
    device: Device | None = None
    efficiency: Fraction | None = None

    def analyze(self, graph: Graph) -> DeviceAnalysis:
        return device_analysis(
            graph,
            self.precision,
            self.batch,
            convention=self.convention,
            device=self.device,
            efficiency=self.efficiency,
        )
