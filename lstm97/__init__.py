"""lstm97: Hochreiter & Schmidhuber's 1997 Long Short-Term Memory, rebuilt chapter by chapter.

Modules, in the order the book builds them:

* `backend` — NumPy (default) or CuPy, one switch for every numeric module;
* `scale`   — ``ci`` | ``book`` | ``paper``, the one setting that sizes every experiment;
* `tasks`   — the sequence tasks of all six experiments (chapter 1).
"""
from . import backend, scale, tasks

__version__ = "0.1.0"
__all__ = ["backend", "scale", "tasks", "__version__"]
