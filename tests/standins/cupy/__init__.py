"""A stand-in for CuPy, for machines without a GPU: NumPy on the host, but strict where CuPy is.

With ``tests/standins`` on ``PYTHONPATH``, ``import cupy`` gives this module, and
``LSTM97_BACKEND=cupy`` runs the package and the chapters on it. The arithmetic is NumPy's (the
numbers are the NumPy backend's); what it checks is the code's handling of the host/device border,
where ports to CuPy break:

* `ndarray` is a class of its own wrapping a NumPy array, not a subclass of numpy.ndarray.
  Implicit conversion to NumPy (``np.asarray(x)``, plotting it, ``np.concatenate([host, x])``)
  raises TypeError as CuPy does; ``x.get()`` and `asnumpy` copy to the host, `asarray` to the
  "device".
* NumPy ufuncs and functions called on stand-in arrays return stand-in arrays
  (``__array_ufunc__``/``__array_function__``, like CuPy); mixing a stand-in array with a NumPy
  array in an operator, a NumPy function or a ``cupy.*`` function raises TypeError ("Unsupported
  type"). Python and NumPy scalars mix freely, 0-d NumPy arrays do not (CuPy's kernels accept
  exactly the scalar types).
* Reductions and scalar indexing give 0-d arrays, not NumPy scalars; ``float(x)``, ``int(x)``,
  ``bool(x)``, ``x.item()``, ``len(x)``, iteration and ``format`` work as in CuPy.
* Where CuPy itself takes host data, so does the stand-in (checked against CuPy's source,
  ``_routines_indexing.pyx``): NumPy arrays and lists as indices, and as the value assigned
  through an advanced (array) index. Assigning a non-scalar NumPy array through a basic index
  (``x[:] = host``) raises CuPy's ValueError ("non-scalar numpy.ndarray cannot be used for fill").
* ``cupy.cuda.runtime.getDeviceCount()`` is 1, the device's name says what it is, and there is no
  ``cupy.random`` (the book draws its data with NumPy's seeded RNG on the host) and no
  ``__cuda_array_interface__`` (GPU kernels refuse the arrays; code that needs to know a CuPy
  array should ask ``isinstance(a, cupy.ndarray)``, as `lstm97.backend.is_array` does).

Known leniency: Python lists of numbers passed to ``cupy.*`` functions are accepted (CuPy takes
them in `array`/`asarray` only).
"""
from __future__ import annotations

import functools
import numbers

import numpy as _np

from . import cuda

__version__ = "14.2.0+standin"

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")


def _unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def _is_scalar(value) -> bool:
    """A Python or NumPy scalar: what CuPy's kernels take beside its arrays."""
    return isinstance(value, (numbers.Number, _np.generic))


def _wrap(value):
    """NumPy results as stand-in arrays (NumPy scalars as 0-d arrays, as CuPy returns them)."""
    if isinstance(value, _np.ndarray):
        out = ndarray.__new__(ndarray)
        out._a = value
        return out
    if isinstance(value, _np.generic):
        return _wrap(_np.asarray(value))
    if isinstance(value, (tuple, list)):
        return type(value)(_wrap(v) for v in value)
    return value


def _operand(value):
    """An operand of an operator or ufunc: a stand-in array or a scalar, nothing else."""
    if isinstance(value, ndarray):
        return value._a
    if _is_scalar(value):
        return value
    raise _unsupported(value)


def _argument(value):
    """An argument of a function: stand-in arrays unwrapped, NumPy arrays refused, anything else
    (shapes, axes, dtypes, strings, lists of these) passed on."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, _np.ndarray):
        raise _unsupported(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_argument(v) for v in value)
    return value


def _index(key):
    """An index: CuPy converts NumPy arrays and lists in it to device arrays, so they are allowed."""
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    return key


def _advanced(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (ndarray, _np.ndarray, list, bool, _np.bool_)) for k in keys)


def _function(fn):
    """`fn` (a NumPy function or ufunc) taking and returning stand-in arrays."""
    @functools.wraps(fn)
    def device_fn(*args, **kwargs):
        return _wrap(fn(*_argument(args), **_argument_dict(kwargs)))
    return device_fn


def _argument_dict(kwargs: dict) -> dict:
    return {k: _argument(v) for k, v in kwargs.items()}


def _binary(ufunc, reflected=False):
    def op(self, other):
        a, b = self._a, _operand(other)
        return _wrap(ufunc(b, a) if reflected else ufunc(a, b))
    return op


def _inplace(ufunc):
    def op(self, other):
        ufunc(self._a, _operand(other), out=self._a)
        return self
    return op


class ndarray:
    """A device array: a NumPy array that does not let itself be used as one implicitly."""

    __slots__ = ("_a",)
    __hash__ = None

    def __init__(self, shape, dtype=float):
        self._a = _np.empty(shape, dtype=dtype)

    # ---- the host/device border
    def get(self, stream=None) -> _np.ndarray:
        """A host copy."""
        return self._a.copy()

    def set(self, arr, stream=None):
        """Copy the host array `arr` into this array."""
        if not isinstance(arr, _np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        self._a[...] = arr

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_operand(o) for o in out)
        result = getattr(ufunc, method)(*(_operand(x) for x in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_argument(args), **_argument_dict(kwargs)))

    # ---- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: _wrap(self._a.T))
    device = property(lambda self: cuda.Device(0))

    def __getattr__(self, name):
        # methods of numpy.ndarray (reshape, sum, astype, copy, ...) on stand-in arrays; never its
        # conversion hooks (__array_interface__, ctypes, data: host memory)
        if name.startswith("__") or name in ("ctypes", "data", "base", "flat", "tofile", "dump", "dumps"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        attr = getattr(self._a, name)
        return _function(attr) if callable(attr) else _wrap(attr)

    # ---- Python protocols, as CuPy has them
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __copy__(self):
        return _wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return _wrap(self._a.copy())

    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, ndarray):
            value = value._a
        elif not _is_scalar(value):
            if not _advanced(key):
                if isinstance(value, _np.ndarray) and value.shape != ():
                    raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
                if not isinstance(value, _np.ndarray):
                    raise _unsupported(value)
        self._a[_index(key)] = value

    # ---- operators
    __add__, __radd__, __iadd__ = _binary(_np.add), _binary(_np.add, True), _inplace(_np.add)
    __sub__, __rsub__, __isub__ = _binary(_np.subtract), _binary(_np.subtract, True), _inplace(_np.subtract)
    __mul__, __rmul__, __imul__ = _binary(_np.multiply), _binary(_np.multiply, True), _inplace(_np.multiply)
    __truediv__, __rtruediv__, __itruediv__ = (_binary(_np.true_divide), _binary(_np.true_divide, True),
                                               _inplace(_np.true_divide))
    __floordiv__, __rfloordiv__, __ifloordiv__ = (_binary(_np.floor_divide), _binary(_np.floor_divide, True),
                                                  _inplace(_np.floor_divide))
    __mod__, __rmod__, __imod__ = _binary(_np.remainder), _binary(_np.remainder, True), _inplace(_np.remainder)
    __pow__, __rpow__, __ipow__ = _binary(_np.power), _binary(_np.power, True), _inplace(_np.power)
    __matmul__, __rmatmul__ = _binary(_np.matmul), _binary(_np.matmul, True)
    __and__, __rand__, __iand__ = _binary(_np.bitwise_and), _binary(_np.bitwise_and, True), _inplace(_np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(_np.bitwise_or), _binary(_np.bitwise_or, True), _inplace(_np.bitwise_or)
    __xor__, __rxor__, __ixor__ = _binary(_np.bitwise_xor), _binary(_np.bitwise_xor, True), _inplace(_np.bitwise_xor)
    __lt__, __le__, __gt__, __ge__ = _binary(_np.less), _binary(_np.less_equal), _binary(_np.greater), \
        _binary(_np.greater_equal)
    __eq__, __ne__ = _binary(_np.equal), _binary(_np.not_equal)

    def __neg__(self):
        return _wrap(-self._a)

    def __pos__(self):
        return _wrap(+self._a)

    def __abs__(self):
        return _wrap(abs(self._a))

    def __invert__(self):
        return _wrap(~self._a)


# ---- functions that take host data: CuPy's copies to the device
def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == _np.dtype(dtype) else a.astype(dtype)
    return _wrap(_np.array(_host_data(a), dtype=dtype, order=order or "K"))


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    return _wrap(_np.array(_host_data(obj), dtype=dtype, order=order, ndmin=ndmin))


asanyarray = asarray


def _host_data(obj):
    """Host data for `array`/`asarray`: stand-in arrays (also inside lists) as NumPy arrays."""
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, (list, tuple)):
        return type(obj)(_host_data(o) for o in obj)
    return obj


def asnumpy(a, stream=None, order="C", out=None):
    """A host copy of `a` (of anything array-like)."""
    return a.get() if isinstance(a, ndarray) else _np.asarray(a, order=order)


def get_array_module(*args):
    import sys
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def is_available() -> bool:
    return True


def __getattr__(name):
    """Everything else of CuPy's namespace, generated from NumPy's: functions and ufuncs that take
    and return stand-in arrays; dtypes and constants as they are."""
    if name == "random":
        raise AttributeError("the CuPy stand-in has no cupy.random: the book draws its data with NumPy's "
                             "seeded Generator on the host and moves them with lstm97.backend.to_device")
    if name.startswith("__") or not hasattr(_np, name):
        raise AttributeError(f"module 'cupy' has no attribute {name!r}")
    attr = getattr(_np, name)
    if callable(attr) and not isinstance(attr, type):
        attr = _function(attr)
    globals()[name] = attr
    return attr
