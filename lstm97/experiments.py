"""The paper's experiments as data. So far: the LSTM architecture of every row of Table 10.

Columns of Table 10 and how they map onto `LSTMConfig`: b → blocks, s → cells, in → n_in,
out → n_out, c → connectivity, ogb/igb → output_gate_bias/input_gate_bias (None where the
table says "r", random), bias ("ga", "b1", "all", "none") → bias ("gates", "hidden", "all",
"none"), h/g → h/g; the initialisation range is [-0.2, 0.2] for Exps. 1 and 2 and
[-0.1, 0.1] for Exps. 3–6 (Sec. 5).
"""
from __future__ import annotations

from .lstm import LSTMConfig


def _exp1(blocks: int, cells: int) -> LSTMConfig:
    return LSTMConfig(n_in=7, n_out=7, blocks=blocks, cells=cells, bias="gates", init_range=0.2,
                      output_gate_bias=tuple(-1.0 - j for j in range(blocks)))


def _exp2ab() -> LSTMConfig:
    return LSTMConfig(n_in=101, n_out=101, connectivity="B", output_gates=False, bias="none",
                      g="g1", h="id", init_range=0.2)


def _exp2c(p: int) -> LSTMConfig:
    return LSTMConfig(n_in=p + 4, n_out=2, blocks=2, bias="none", init_range=0.2)


def _exp3() -> LSTMConfig:
    return LSTMConfig(n_in=1, n_out=1, blocks=3, bias="hidden", input_gate_bias=(-1.0, -3.0, -5.0),
                      output_gate_bias=(-2.0, -4.0, -6.0))


def _marked_pairs(input_gate_bias) -> LSTMConfig:
    return LSTMConfig(n_in=2, n_out=1, blocks=2, cells=2, input_gate_bias=input_gate_bias)


ARCHITECTURES: dict[str, LSTMConfig] = {
    "1-1": _exp1(4, 1), "1-2": _exp1(3, 2), "1-3": _exp1(3, 2), "1-4": _exp1(4, 1), "1-5": _exp1(3, 2),
    "2a": _exp2ab(), "2b": _exp2ab(),
    **{f"2c-{i}": _exp2c(p) for i, p in enumerate((50, 100, 200, 500, 1000, 500, 200, 100, 50), start=1)},
    "3a": _exp3(), "3b": _exp3(), "3c": _exp3(),
    "4-1": _marked_pairs((-3.0, -6.0)), "4-2": _marked_pairs((-3.0, -6.0)), "4-3": _marked_pairs((-3.0, -6.0)),
    "5": _marked_pairs(None),
    "6a": LSTMConfig(n_in=8, n_out=4, blocks=2, cells=2, input_gate_bias=(-2.0, -4.0)),
    "6b": LSTMConfig(n_in=8, n_out=8, blocks=3, cells=2, input_gate_bias=(-2.0, -4.0, -6.0)),
}
