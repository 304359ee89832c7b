"""Spec files: the YAML format (:mod:`.models`) and its loader with positions (:mod:`.loader`)."""

from sepcalc.spec.loader import (
    LoadedSpec,
    Locator,
    SpecPath,
    load_spec,
    parse_yaml,
    validate,
)
from sepcalc.spec.models import NetworkSpec

__all__ = [
    "LoadedSpec",
    "Locator",
    "NetworkSpec",
    "SpecPath",
    "load_spec",
    "parse_yaml",
    "validate",
]
