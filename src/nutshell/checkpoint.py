"""Checkpoints that survive a crash: written atomically, loaded with ``weights_only=True``.

A checkpoint is first written to a temporary file in the same folder, flushed to disk, then
renamed over the old one (``os.replace`` is atomic on POSIX and Windows), so an interrupted
save leaves the previous checkpoint intact, never a truncated file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["load", "save"]


def save(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain containers only)."""
    return torch.load(Path(path), map_location=map_location, weights_only=True)
