"""One device rule for the whole project: CUDA when available, else the CPU.

``NUTSHELL_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ...) overrides the choice. Random data
is generated on the CPU with a seeded generator and then moved, so numbers agree across
devices wherever the arithmetic allows.
"""

from __future__ import annotations

import os

import torch

__all__ = ["default_device", "describe", "resolve"]


def resolve(device: str | torch.device | None = None) -> torch.device:
    """The device to use: ``device`` if given, else ``NUTSHELL_DEVICE``, else the default.

    Raises:
        ValueError: when the name is not a device torch knows, or names a CUDA device that
            this machine does not have.
    """
    if device is None:
        device = os.environ.get("NUTSHELL_DEVICE") or None
        source = "NUTSHELL_DEVICE"
    else:
        source = "device"
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{source}={device!r} is not a device; use 'cpu', 'cuda' or 'cuda:N'"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{source}={device!r} asks for CUDA, but no CUDA device is available")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{source}={device!r}: this machine has {count} CUDA device(s)")
    elif dev.type != "cpu":
        raise ValueError(f"{source}={device!r}: nutshell supports 'cpu' and 'cuda' devices")
    return dev


def default_device() -> torch.device:
    """CUDA when available, else the CPU; ``NUTSHELL_DEVICE`` overrides."""
    return resolve(None)


def describe(device: torch.device | str | None = None) -> str:
    """A readable name, e.g. ``'cuda (NVIDIA H100 80GB HBM3)'`` or ``'cpu (2 threads)'``."""
    dev = resolve(device)
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"
