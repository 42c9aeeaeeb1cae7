"""cupy.cuda.runtime of the stand-in: one device, named for what it is."""

NAME = b"CuPy stand-in (NumPy on the host)"


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount() -> int:
    return 1


def getDeviceProperties(device: int) -> dict:
    if device != 0:
        raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {device}")
    return {"name": NAME, "totalGlobalMem": 0, "major": 9, "minor": 0}


def runtimeGetVersion() -> int:
    return 12080


def driverGetVersion() -> int:
    return 12080
