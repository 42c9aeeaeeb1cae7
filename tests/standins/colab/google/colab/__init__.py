"""A stand-in for Google Colab's `google.colab` package, for tests/test_colab.py.

Colab imports `google.colab` before any cell runs, and the book's set-up cell (tests/colab_setup.py)
takes `"google.colab" in sys.modules` to mean "in Colab". This module only makes that true: it
provides none of Colab's API. `google` is a namespace package here (no google/__init__.py), so
other `google.*` packages stay importable beside it.
"""

STANDIN = True  # what a test checks to tell this module from Colab's own
