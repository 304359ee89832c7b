"""sepcalc: what a CNN will cost, from a YAML spec, before any framework is installed."""

__version__ = "0.1.0"
