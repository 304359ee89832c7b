"""Multi-head self-attention over the positions of a feature map (ViT blocks, MobileViT).

The tokens are the positions of the map (H*W, or T*H*W), each with the map's C channels. With a
``patch`` size P (MobileViT's unfold), the map is cut into N = positions / P patches and
attention runs among the N patches separately for each of the P positions inside a patch: P
sequences of N tokens instead of one of P*N, so the score matrices shrink by P.

For C channels, S positions, h heads and N tokens per sequence (S/P):
  params = 3*C*C (+ 3*C qkv bias) + C*C (+ C proj bias)
  MACs   = 3*C*C*S (qkv) + 2*S*N*C (Q K^T and scores x V) + C*C*S (proj)
and the h*S*N scores are scaled (1 multiply each) and softmax-normalised (1 each). The head
count changes no MAC and no parameter: it splits C into h heads of C/h, so it sets how many
score matrices there are (h*P of N x N). torch's FlopCounterMode counts the two matrix products
of ``scaled_dot_product_attention`` as these MACs (2 FLOPs each); fvcore counts them only as
explicit matmuls, which is how the exported module computes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    ShapeError,
    declare,
    exact_div,
    prod,
    spatial,
)
from sepcalc.formulas.dense import linear_cost
from sepcalc.formulas.torchplan import Call, call, dims
from sepcalc.formulas.view import View, feature_map


def attention_cost(
    c: Num, positions: Num, tokens: Num, heads: Num, qkv_bias: bool = True, proj_bias: bool = True
) -> Cost:
    """Self-attention of ``positions`` tokens of ``c`` channels in sequences of ``tokens``."""
    scores = heads * positions * tokens
    products = Cost(macs=2 * positions * tokens * c, activations=2 * scores + positions * c)
    scaling = Cost(elem_ops=scores, softmax_ops=scores)
    return (
        linear_cost(c, 3 * c, positions, qkv_bias)
        + products
        + scaling
        + linear_cost(c, c, positions, proj_bias)
    )


def _infer_attention(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """The input's shape (C channels at every position)."""
    c, size, patch = inputs[0][0], spatial(inputs[0]), attrs["patch"]
    if c % attrs["heads"]:
        raise ShapeError(f"heads={attrs['heads']} must divide the {c} channels", "heads")
    if any(n % p for n, p in zip(size, patch, strict=True)):
        raise ShapeError(
            f"patch {list(patch)} must divide the input size {list(size)} in every dimension",
            "patch",
        )
    return inputs[0]


def _torch_attention(layer: Layer) -> Call:
    a = layer.attrs
    return call(
        "SelfAttention",
        layer.input_shapes[0][0],
        a["heads"],
        tuple(a["patch"]),
        qkv_bias=a["qkv_bias"],
        proj_bias=a["proj_bias"],
        dims=dims(layer),
    )


@declare(
    "attention",
    attrs=(
        Attr("heads", "int", "attention heads (they divide the channels)"),
        Attr(
            "patch",
            "per_dim",
            "patch size: attention among the patches, separately for each position inside a "
            "patch (MobileViT); 1: among all positions",
            1,
        ),
        Attr("qkv_bias", "bool", "a bias on the query, key and value projections", True),
        Attr("proj_bias", "bool", "a bias on the output projection", True),
    ),
    infer=_infer_attention,
    buckets=("attention",),
    torch=_torch_attention,
    flops="2 per MAC of the projections and of both matrix products; their bias adds; "
    "per score, 1 for the 1/sqrt(C/h) scaling and 1 for the softmax",
    examples=(
        Example({"heads": 2}, size=(3, 4)),
        Example({"heads": 4, "patch": 2, "qkv_bias": False}, channels=8, size=(4, 6)),
        Example({"heads": 1, "patch": [2, 1, 3], "proj_bias": False}, channels=4, size=(2, 2, 3)),
    ),
    view=View(
        "multi-head self-attention among all H*W positions of C_in channels, n_h heads "
        "(qkv and output projections with bias; a patch P divides the score terms by P)",
        "H, W: the size of the feature map (H*W tokens)",
        lambda S, c: (
            {"heads": S.n_h, "patch": (1, 1), "qkv_bias": True, "proj_bias": True},
            [feature_map(S)],
            feature_map(S),
        ),
    ),
)
def _attention(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Multi-head self-attention among the positions of a feature map (with qkv and output
    projections)."""
    positions = prod(spatial(inputs[0]))
    tokens = exact_div(positions, prod(attrs["patch"]))
    cost = attention_cost(
        inputs[0][0], positions, tokens, attrs["heads"], attrs["qkv_bias"], attrs["proj_bias"]
    )
    return [("attention", cost)]
