"""Imported by Python at start-up when this folder is on PYTHONPATH (tests/test_colab.py puts it
on the simulated Colab kernel's PYTHONPATH only): import the `google.colab` stand-in, as Colab
does before the first cell runs."""

import google.colab  # noqa: F401
