"""Pools refuse what torch refuses: padding over half the kernel, a dilated average."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml

from sepcalc.errors import SpecError
from sepcalc.graph import Graph, build_graph
from sepcalc.spec.loader import LoadedSpec, parse_yaml, validate

SIZE = 16


def _graph(layer: dict[str, Any]) -> Graph:
    spec = {"input": {"channels": 2, "size": [SIZE]}, "layers": [layer]}
    data, locator = parse_yaml(yaml.safe_dump(spec), "pool.yaml")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def _accepted(layer: dict[str, Any]) -> bool:
    try:
        _graph(layer)
    except SpecError:
        return False
    return True


@pytest.mark.parametrize(
    ("kernel", "dilation", "highest"),
    [(1, 1, 0), (2, 1, 1), (3, 1, 1), (4, 1, 2), (3, 2, 1), (2, 3, 1), (5, 3, 2)],
)
def test_maxpool_padding_is_at_most_half_the_kernel(
    kernel: int, dilation: int, highest: int
) -> None:
    # torch: pad <= kernel / 2 in integers, whatever the dilation (max_pool1d's check, and
    # pool2d_shape_check's "pad should be smaller than or equal to half of kernel size").
    layer = {"kind": "maxpool", "kernel": kernel, "dilation": dilation}
    assert _accepted({**layer, "padding": highest})
    assert not _accepted({**layer, "padding": highest + 1})


@pytest.mark.torch
def test_the_pools_refuse_exactly_what_torch_refuses() -> None:
    torch = pytest.importorskip("torch")
    cases = itertools.product(("maxpool", "avgpool"), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2, 3))
    for kind, kernel, dilation, padding in cases:
        for ceil_mode in (False, True):
            layer = {"kind": kind, "kernel": kernel, "padding": padding, "ceil_mode": ceil_mode}
            if kind == "maxpool":
                module = torch.nn.MaxPool1d(kernel, kernel, padding, dilation, ceil_mode=ceil_mode)
                layer["dilation"] = dilation
            elif dilation == 1:
                module = torch.nn.AvgPool1d(kernel, kernel, padding, ceil_mode=ceil_mode)
            else:  # torch's AvgPool has no dilation to refuse
                assert not _accepted({**layer, "dilation": dilation})
                continue
            try:
                out = module(torch.zeros(1, 2, SIZE)).shape[-1]
            except RuntimeError:
                assert not _accepted(layer), layer
            else:
                assert _graph(layer).output_shape == (2, out), layer
