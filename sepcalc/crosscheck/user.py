"""The user's own ``nn.Module``, built from a factory and counted by torch and fvcore.

The factory is ``package.module:name`` or ``path/to/file.py:name``: a function or class that
returns an ``nn.Module`` (called with the keyword arguments given). It is built on the meta
device (no weights allocated, nothing initialised), where ``FlopCounterMode`` counts it. fvcore
traces with ``torch.jit`` and needs real tensors: its copy is materialised uninitialised on the
CPU and zeroed (the values never matter to a count). A factory that cannot build on the meta
device is built on the CPU instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from sepcalc.crosscheck.against import ModuleCount, Unit
from sepcalc.crosscheck.count import EXTENDED_FVCORE_OPS, quiet_tracing, torch_refusals
from sepcalc.errors import SepcalcError

Factory = Callable[..., Any]


def load_factory(target: str) -> Factory:
    """``pkg.models:build`` or ``path/to/models.py:build`` as the object it names."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise SepcalcError(
            f"'{target}': expected MODULE:NAME, e.g. mypkg.models:build_model or "
            "path/to/models.py:build_model"
        )
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise SepcalcError(f"'{target}': no file {where}")
        spec = importlib.util.spec_from_file_location(f"sepcalc_user_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise SepcalcError(f"'{target}': cannot load {where} as Python")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise SepcalcError(f"'{target}': importing {where} failed: {_said(exc)}") from None
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise SepcalcError(
                f"'{target}': no module named '{exc.name}' (run from the directory that holds "
                "the package, or install it)"
            ) from None
        except Exception as exc:
            raise SepcalcError(f"'{target}': importing {where} failed: {_said(exc)}") from None
    found: Any = module
    for part in name.split("."):
        if not hasattr(found, part):
            names = [n for n in dir(module) if not n.startswith("_")]
            raise SepcalcError(
                f"'{target}': {where} has no '{name}' (it has {', '.join(names[:12])}"
                f"{', ...' if len(names) > 12 else ''})"
            )
        found = getattr(found, part)
    if not callable(found):
        raise SepcalcError(f"'{target}': {name} is not a function or class")
    return cast(Factory, found)


def _said(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def build(factory: Factory, kwargs: Mapping[str, Any], device: str) -> nn.Module:
    """The module the factory returns, built on ``device``, in eval mode."""
    with torch.device(device):
        try:
            model = factory(**kwargs)
        except TypeError as exc:
            signature = _signature(factory)
            raise SepcalcError(f"calling {_name(factory)}{signature}: {_said(exc)}") from None
        except Exception as exc:
            raise SepcalcError(f"building the model failed: {_said(exc)}") from None
    if not isinstance(model, nn.Module):
        raise SepcalcError(
            f"{_name(factory)} returned a {type(model).__name__}, not a torch.nn.Module"
        )
    return model.eval()


def _name(factory: Factory) -> str:
    return getattr(factory, "__qualname__", None) or repr(factory)


def _signature(factory: Factory) -> str:
    try:
        return str(inspect.signature(factory))
    except (TypeError, ValueError):
        return "(...)"


def _materialised(factory: Factory, kwargs: Mapping[str, Any]) -> nn.Module:
    """The model with real (zeroed, uninitialised) tensors on the CPU."""
    try:
        model = build(factory, kwargs, "meta").to_empty(device="cpu")
    except SepcalcError:
        model = build(factory, kwargs, "cpu")
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            tensor.zero_()
    return model


def _calls(model: nn.Module) -> tuple[list[str], Callable[[], None]]:
    """Record the path of each module as its call ends; returns the list and a remover."""
    order: list[str] = []
    handles = []
    for path, module in model.named_modules():

        def hook(mod: nn.Module, args: Any, out: Any, path: str = path) -> None:
            order.append(path)

        handles.append(module.register_forward_hook(hook))

    def remove() -> None:
        for h in handles:
            h.remove()

    return order, remove


def _units(model: nn.Module, order: list[str], inclusive: Mapping[str, int]) -> tuple[Unit, ...]:
    """Every module called, where its first call ends (uncalled ones holding parameters last),
    with its own parameters and the FLOPs counted in it and not in a child."""
    modules = dict(model.named_modules())
    seen: dict[str, None] = dict.fromkeys(order)
    uncalled = [p for p, m in modules.items() if p not in seen and _own_params(m)]
    units = []
    for path in [*seen, *uncalled]:
        module = modules[path]
        children = [f"{path}.{c}" if path else c for c, _ in module.named_children()]
        own = inclusive.get(path, 0) - sum(inclusive.get(c, 0) for c in children)
        units.append(Unit(path, _own_params(module), own))
    return tuple(units)


def _own_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=False))


def _shape(out: Any) -> tuple[int, ...]:
    if not isinstance(out, torch.Tensor):
        raise SepcalcError(
            f"the model returned a {type(out).__name__}: only a model with one tensor output "
            "can be compared with a spec"
        )
    return tuple(int(n) for n in out.shape[1:])


def count_user_torch(
    factory: Factory, kwargs: Mapping[str, Any], input_shape: tuple[int, ...]
) -> ModuleCount:
    """FlopCounterMode on the meta device (on the CPU where the model cannot run on meta)."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        model = build(factory, kwargs, "meta")
        device = "meta"
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device="meta"))
    except Exception:  # a model that builds or runs on real tensors only
        model, device = _materialised(factory, kwargs), "cpu"
    order, remove = _calls(model)
    counter = FlopCounterMode(display=False)
    with torch_refusals("torch"), counter, torch.no_grad():
        out = model(torch.zeros(1, *input_shape, device=device))
    remove()
    root = type(model).__name__
    by_module = counter.get_flop_counts()
    inclusive = {
        path: int(sum(by_module.get(f"{root}.{path}" if path else root, {}).values()))
        for path, _ in model.named_modules()
    }
    return ModuleCount(
        tool="torch",
        flops=int(counter.get_total_flops()),
        params=sum(p.numel() for p in model.parameters()),
        units=_units(model, order, inclusive),
        output_shape=_shape(out),
    )


def count_user_fvcore(
    factory: Factory, kwargs: Mapping[str, Any], input_shape: tuple[int, ...]
) -> ModuleCount:
    """fvcore's FlopCountAnalysis and parameter_count on a materialised copy."""
    with quiet_tracing():
        from fvcore.nn import FlopCountAnalysis, parameter_count
        from fvcore.nn.jit_handles import elementwise_flop_counter

        model = _materialised(factory, kwargs)
        x = torch.zeros(1, *input_shape)
        order, remove = _calls(model)
        with torch.no_grad(), torch_refusals("torch"):
            out = model(x)
        remove()
        analysis = (
            FlopCountAnalysis(model, x)
            .unsupported_ops_warnings(False)
            .uncalled_modules_warnings(False)
            .tracer_warnings("none")
        )
        for op, (per_input, per_output) in EXTENDED_FVCORE_OPS.items():
            analysis.set_op_handle(op, elementwise_flop_counter(per_input, per_output))
        with torch_refusals("fvcore"):
            total = int(analysis.total())
        by_module = analysis.by_module()
        uncounted = Counter(analysis.unsupported_ops())
    return ModuleCount(
        tool="fvcore",
        flops=total,
        params=int(parameter_count(model).get("", 0)),
        units=_units(model, order, {k: int(v) for k, v in by_module.items()}),
        output_shape=_shape(out),
        uncounted=dict(uncounted),
    )


USER_COUNTERS = {"fvcore": count_user_fvcore, "torch": count_user_torch}
