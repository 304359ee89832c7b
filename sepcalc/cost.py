"""The cost of a layer or a network, as one value that adds up.

Fields are exact Python ints for a concrete network and sympy expressions for a symbolic one;
the formulas that produce them use arithmetic only, so both work unchanged.

Parameters are split by role (``weight``, ``bias``, ``norm``). ``macs`` are the
multiply-accumulates of convolutions and linear layers (no bias), i.e. the papers' "mult-adds".
FLOPs are not stored: a cost keeps the primitive operation counts of each category and a
:class:`~sepcalc.conventions.Convention` weighs them into FLOPs, so every counting convention
(ours, torch's, fvcore's) is computed from the same formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import add
from typing import Any, NamedTuple, TypeAlias

Num: TypeAlias = Any
"""An exact ``int`` for a concrete network, or a ``sympy.Expr`` for a symbolic one."""

MAX_COUNT_BITS = 8192
"""The largest count of one layer, in bits (10**2466): sums over the 100,000 layers a spec may
have stay far under the 4,300 digits that Python converts to text. A layer's inputs are
bounded by 4,096 bits each; its count, a product of several, is checked against this."""


_LIMIT = 1 << MAX_COUNT_BITS
"""The smallest magnitude over :data:`MAX_COUNT_BITS` bits."""


def too_large(values: Sequence[Any]) -> bool:
    """Whether any exact int among ``values`` is over :data:`MAX_COUNT_BITS` bits."""
    try:
        if min(values) > -_LIMIT and max(values) < _LIMIT:  # ints: no loop in Python
            return False
    except (TypeError, ValueError):  # a sympy value (no truth), or no value
        pass
    return any(isinstance(v, int) and v.bit_length() > MAX_COUNT_BITS for v in values)


class Cost(NamedTuple):
    """A tuple of counts that adds field by field (a named tuple: adding is the hot path)."""

    weight: Num = 0
    bias: Num = 0
    norm: Num = 0
    macs: Num = 0
    bias_ops: Num = 0
    """Additions of a bias: one per output element of a biased conv or linear layer."""
    norm_ops: Num = 0
    """Normalization at inference: 2 per element (scale and shift) when affine, else 1."""
    act_ops: Num = 0
    """Activation function evaluations: one per element."""
    pool_ops: Num = 0
    """Windowed pooling: one per window element per output element."""
    gpool_ops: Num = 0
    """Global (adaptive) pooling: one per input element."""
    mean_ops: Num = 0
    """A mean over the spatial dimensions (``x.mean(...)``): one per input element."""
    elem_ops: Num = 0
    """Element-wise arithmetic between tensors: residual adds, squeeze-excite scaling."""
    upsample_ops: Num = 0
    """Interpolation: 0 for nearest, 2**dims per output element for (bi/tri)linear."""
    nearest_ops: Num = 0
    """Nearest upsampling: one copy per output element (no arithmetic; fvcore counts it)."""
    softmax_ops: Num = 0
    """Softmax: one per element it normalises (an attention score)."""
    stat_norm_ops: Num = 0
    """Normalization by statistics computed at inference (LayerNorm, GroupNorm): one per
    element normalized (its share of the mean and variance, and its normalization)."""
    stat_affine_ops: Num = 0
    """The learned per-channel scale and shift after a statistics normalization: one per
    element."""
    activations: Num = 0
    """Elements of the tensors a layer writes."""

    @property
    def params(self) -> Num:
        return self.weight + self.bias + self.norm

    def __add__(self, other: Cost) -> Cost:  # type: ignore[override]
        return Cost(*map(add, self, other))

    def __radd__(self, other: object) -> Cost:
        if other == 0:
            return self
        return NotImplemented

    def without_activations(self) -> Cost:
        """The same cost with no tensor of its own (for a norm or activation fused in place)."""
        return Cost._make((*self[:_ACTIVATIONS], 0, *self[_ACTIVATIONS + 1 :]))  # hot: no _replace


_ACTIVATIONS = Cost._fields.index("activations")

OPERATIONS: dict[str, str] = {
    "macs": "multiply-accumulate (conv, linear)",
    "bias_ops": "bias add: 1 per output element of a biased layer",
    "norm_ops": "normalization at inference: 2 per element (scale and shift), 1 if not affine",
    "act_ops": "activation: 1 function evaluation per element",
    "pool_ops": "windowed pooling: 1 per window element per output element",
    "gpool_ops": "global or adaptive average pooling: 1 per input element",
    "mean_ops": "mean over the spatial dimensions (x.mean): 1 per input element",
    "elem_ops": "element-wise arithmetic between tensors: n - 1 per element of an n-way add or "
    "product; 1 per element for a scale",
    "upsample_ops": "interpolation: 2**dims neighbours per output element ((bi/tri)linear)",
    "nearest_ops": "nearest upsampling: 1 copy per output element (no arithmetic)",
    "softmax_ops": "softmax: 1 per element normalised (an attention score)",
    "stat_norm_ops": "statistics normalization (LayerNorm, GroupNorm): 1 per element "
    "(mean: 1 add; variance: subtract, square, add; normalize: 1 multiply)",
    "stat_affine_ops": "scale and shift after a statistics normalization: 1 per element "
    "(a multiply and an add)",
}
"""Each primitive operation count of a :class:`Cost`, in words: what one operation is. A
:class:`~sepcalc.conventions.Convention` gives each a weight in FLOPs."""
