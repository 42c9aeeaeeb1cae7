"""The configuration of an LSTM net: the columns of the paper's Table 10 (topology, squashing,
initialisation) and the options of the later variants (Part IV), which `LSTMConfig.beyond_1997`
names. `lstm.LSTM` builds a net from one."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BIAS = {"none": (), "gates": ("gates",), "hidden": ("gates", "cells"), "all": ("gates", "cells", "outputs"),
        "gates+outputs": ("gates", "outputs")}


@dataclass(frozen=True)
class LSTMConfig:
    """The topology and initialisation of a 1997 LSTM net (the columns of the paper's Table 10).

    connectivity: "F" — cells and gates see the inputs and (recurrently) all cells and gates,
      outputs see the cells; "B" — cells and gates see only the inputs, outputs see the inputs
      and the cells (tasks 2a, 2b).
    bias: which units have a bias weight: "none", "gates" (Table 10's "ga"), "hidden" (cells and
      gates, "b1"), "all" (every non-input unit), or "gates+outputs" (all but the cells: Gers et
      al. 2000's CERG net, chapter 14).
    g, h: the cell input and output squashing, "g2"/"g1" and "h1"/"id" (see `squash`).
    init_range: every weight starts uniform in [-init_range, init_range] ...
    input_gate_bias, output_gate_bias: ... except these gate biases, one per block; None keeps
      them random like the other weights (Table 10's "r").

    Beyond 1997 (`lstm97.later`, chapters 14–15; the defaults are the 1997 cell):
    forget_gate: one forget gate per block (Gers et al. 2000), which scales s_c(t-1);
      forget_gate_bias: its biases, one per block (Gers et al. start them positive: +0.5, +1.0, ...).
    peepholes: one weight per cell from the state to each gate of its block (Gers & Schmidhuber
      2000): input and forget gates see s(t-1), the output gate s(t).
    recurrent (connectivity "F"): "all" — cells and gates see all cells and gates of t-1 (the
      paper's reading, spec decision 3); "cells" — only the cell outputs y_c(t-1), as in
      Greff et al. (2017) and torch.nn.LSTM.
    shortcut (connectivity "F"): the output units also see the inputs x(t), as under "B" (the
      "shortcut" connections of Gers et al. 2000's CERG net).
    g, h may also be "tanh" (the vanilla LSTM of Greff et al. 2017).
    """

    n_in: int
    n_out: int
    blocks: int = 1
    cells: int = 1
    connectivity: str = "F"
    output_gates: bool = True
    bias: str = "all"
    g: str = "g2"
    h: str = "h1"
    init_range: float = 0.1
    input_gate_bias: tuple | None = None
    output_gate_bias: tuple | None = None
    forget_gate: bool = False
    forget_gate_bias: tuple | None = None
    peepholes: bool = False
    recurrent: str = "all"
    shortcut: bool = False

    def __post_init__(self):
        for name in ("n_in", "n_out", "blocks", "cells"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        choices = {"connectivity": ("F", "B"), "bias": tuple(BIAS), "g": ("g1", "g2", "tanh"),
                   "h": ("h1", "id", "tanh"), "recurrent": ("all", "cells")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("output_gates", "forget_gate", "peepholes", "shortcut"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not self.init_range > 0:
            raise ValueError(f"init_range must be positive, got {self.init_range!r}")
        if self.recurrent != "all" and self.connectivity != "F":
            raise ValueError(f"recurrent={self.recurrent!r} needs connectivity 'F': under 'B' nothing feeds back")
        if self.shortcut and self.connectivity != "F":
            raise ValueError("shortcut=True needs connectivity 'F': under 'B' the outputs see the inputs anyway")
        if self.forget_gate_bias is not None and not self.forget_gate:
            raise ValueError("forget_gate_bias is set but forget_gate is False; add forget_gate=True")
        for name in ("input_gate_bias", "output_gate_bias", "forget_gate_bias"):
            v = getattr(self, name)
            if v is None:
                continue
            if "gates" not in BIAS[self.bias]:
                raise ValueError(f"{name} is set but bias={self.bias!r} gives the gates no bias weight")
            if len(v) != self.blocks:
                raise ValueError(f"{name} needs one value per block ({self.blocks}), got {len(v)}")
        if self.output_gate_bias is not None and not self.output_gates:
            raise ValueError("output_gate_bias is set but the net has no output gates")

    @property
    def n_cells(self) -> int:
        return self.blocks * self.cells

    @property
    def n_gates(self) -> int:
        """Gates per block."""
        return 1 + self.forget_gate + self.output_gates

    @property
    def n_hidden(self) -> int:
        """Cells and gates, whose activations y_h = (y_c, y_in, y_phi, y_out) make the state."""
        return self.n_cells + self.blocks * self.n_gates

    @property
    def n_recurrent(self) -> int:
        """The units of y_h(t-1) that cells and gates see: all of them, only the cells, or none."""
        if self.connectivity == "B":
            return 0
        return self.n_hidden if self.recurrent == "all" else self.n_cells

    @property
    def beyond_1997(self) -> tuple[str, ...]:
        """The options set here that the 1997 cell does not have (empty for a 1997 net)."""
        later = {"forget_gate": self.forget_gate, "peepholes": self.peepholes,
                 "recurrent='cells'": self.recurrent == "cells", "g='tanh'": self.g == "tanh",
                 "h='tanh'": self.h == "tanh", "shortcut": self.shortcut,
                 "bias='gates+outputs'": self.bias == "gates+outputs"}
        return tuple(name for name, on in later.items() if on)
