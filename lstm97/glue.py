"""Numbers from the records into a chapter's prose, never typed by hand: myst-nb's glue.

In a code cell, ``glue("ch09-3a3-median", value)``; in the page's Markdown,
``{glue:text}`ch09-3a3-median:,.0f``` (a format spec after the last colon). The book build pastes
the value where the role stands, so the prose shows what the record holds. This writes the same
output as ``myst_nb.glue(name, value, display=False)`` without needing myst-nb where the chapters
run (nbval, Colab); in Jupyter or Colab the role itself shows as written.

Only notebooks import this module (it needs IPython)."""
from __future__ import annotations

import numpy as np
from IPython.core.formatters import format_display_data
from IPython.display import display

PREFIX = "application/papermill.record/"  # myst_nb.ext.glue.GLUE_PREFIX: stored, not shown


def glue(name: str, value) -> None:
    """Store `value` under `name` for the page's ``{glue:text}`name``` roles. A NumPy scalar is
    stored as the Python number it holds (its repr, ``np.float64(…)``, would be pasted as is)."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float, str)):
        raise TypeError(f"glue {name!r}: a number or a string, got {type(value).__name__}")
    data, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": PREFIX}
    display({PREFIX + k: v for k, v in data.items()}, raw=True, metadata=metadata)
