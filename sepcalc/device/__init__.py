"""What a network costs on hardware: bytes moved, peak activation memory, flash, and roofline
latency on named devices (docs/device.md).

- :mod:`~sepcalc.device.dtypes`: data types and the precision of weights and activations;
- :mod:`~sepcalc.device.memory`: bytes each layer reads and writes (from each kind's declared
  traffic) and peak memory over the graph in execution order, under named conventions;
- :mod:`~sepcalc.device.devices`: device files (presets in ``presets/``, each number sourced);
- :mod:`~sepcalc.device.roofline`: time = max(FLOPs / peak, bytes / bandwidth) / efficiency.
"""

from __future__ import annotations

from sepcalc.device.devices import Device, get_device, parse_device, preset_names
from sepcalc.device.dtypes import DTYPES, Precision
from sepcalc.device.memory import CONVENTIONS, LayerMemory, Memory, memory
from sepcalc.device.roofline import KindTime, LayerTime, Roofline, roofline, shares

__all__ = [
    "CONVENTIONS",
    "DTYPES",
    "Device",
    "KindTime",
    "LayerMemory",
    "LayerTime",
    "Memory",
    "Precision",
    "Roofline",
    "get_device",
    "memory",
    "parse_device",
    "preset_names",
    "roofline",
    "shares",
]
