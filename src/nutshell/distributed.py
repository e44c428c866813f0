"""Data parallelism on ``torch.distributed``: what [`fit`][nutshell.training.loop.fit] does
when it is started under ``torchrun``, and a launcher that starts it.

Under ``torchrun`` every process (a *rank*) gets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in
its environment. [`setup`][nutshell.distributed.setup] reads them, joins the process group
(NCCL for CUDA, gloo for the CPU) and returns a [`Context`][nutshell.distributed.Context]; in a
plain ``python`` process it returns a one-rank context and touches nothing. The rest of this
module is what a rank needs to train its share:

- [`Context.shard`][nutshell.distributed.Context.shard] splits a global batch into one
  contiguous slice per rank (sizes differ by at most one);
- [`Context.sum`][nutshell.distributed.Context.sum] adds numbers across ranks (one all-reduce),
  so every rank sees the same metrics and takes the same decisions;
- [`launch`][nutshell.distributed.launch] runs a module under ``torchrun`` on this machine
  (``127.0.0.1``, a free port), with a time limit, and turns a failed rank into one clear error.

Run a script on 2 CPU processes: ``torchrun --nproc_per_node 2 script.py`` (or
``python -m torch.distributed.run ...``); on a machine with 4 GPUs, ``--nproc_per_node 4``.
"""

from __future__ import annotations

import atexit
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from nutshell.device import resolve

__all__ = ["Context", "LaunchError", "launch", "setup"]

DEFAULT_TIMEOUT_S = 600.0  # a collective that waits longer than this fails instead of hanging


@dataclass(frozen=True)
class Context:
    """Where this process stands in a data-parallel run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        """True when more than one process trains together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that prints and writes checkpoints."""
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous slice of ``batch`` (slices differ in size by at most one)."""
        if not self.distributed:
            return batch
        return batch.tensor_split(self.world_size)[self.rank]

    def sum(self, values: Sequence[float]) -> list[float]:
        """``values`` added element-wise over all ranks (float64, one all-reduce)."""
        if not self.distributed:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on at least one."""
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def gather(self, obj: object) -> list:
        """``obj`` from every rank, in rank order (on every rank)."""
        if not self.distributed:
            return [obj]
        out: list = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} must be an integer (it is set by torchrun)") from None


def setup(device: str | torch.device | None = None) -> Context:
    """Join the run this process belongs to, and pick its device.

    Outside ``torchrun`` (no ``WORLD_SIZE`` or ``WORLD_SIZE=1``) this returns a one-rank context
    on ``resolve(device)``. Under ``torchrun`` it initialises the default process group if
    nobody has (backend NCCL on CUDA, gloo on the CPU; collective time limit
    ``NUTSHELL_DIST_TIMEOUT`` seconds, default 600), and a CUDA device without an index
    becomes ``cuda:LOCAL_RANK``, so each process drives its own GPU.

    Raises:
        ValueError: when the torchrun variables are inconsistent, or when more processes than
            GPUs ask for CUDA on this machine.
    """
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = _env_int("LOCAL_RANK") or 0
    else:
        world = _env_int("WORLD_SIZE") or 1
        rank = _env_int("RANK") or 0
        local = _env_int("LOCAL_RANK") or 0
        if world < 1 or not 0 <= rank < world:
            raise ValueError(f"RANK={rank} must be in [0, WORLD_SIZE={world})")
    dev = resolve(device)
    if world > 1 and dev.type == "cuda" and dev.index is None:
        count = torch.cuda.device_count()
        if local >= count:
            raise ValueError(
                f"LOCAL_RANK={local} needs a GPU of its own, but this machine has {count}; "
                f"start at most {count} processes per node, or train on device='cpu' (gloo)"
            )
        dev = torch.device("cuda", local)
    if dev.type == "cuda" and dev.index is not None:
        torch.cuda.set_device(dev)  # NCCL and all_gather_object use the current device
    if world > 1 and not dist.is_initialized():
        if not dist.is_available():
            raise ValueError("WORLD_SIZE > 1, but this build of torch has no torch.distributed")
        timeout = float(os.environ.get("NUTSHELL_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))
        dist.init_process_group(
            backend="nccl" if dev.type == "cuda" else "gloo",
            timeout=datetime.timedelta(seconds=timeout),
        )
        atexit.register(_destroy)
    return Context(rank=rank, world_size=world, local_rank=local, device=dev)


def _destroy() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class LaunchError(RuntimeError):
    """A ``torchrun`` launch failed or ran out of time; the message names the failed rank."""

    def __init__(self, message: str, returncode: int | None, stdout: str, stderr: str):
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_RANK_FAILED = re.compile(r"^nutshell: rank \d+ of \d+ failed.*$", re.MULTILINE)
_RANK_ERROR = re.compile(r"^\[rank(\d+)\]: (\w+(?:Error|Exception|Interrupt)\b.*)$", re.MULTILINE)


def _why(stderr: str) -> str:
    """The failing ranks' own words, from torchrun's combined output."""
    ours = _RANK_FAILED.findall(stderr)
    if ours:
        return "; ".join(dict.fromkeys(ours))
    theirs = {}
    for rank, line in _RANK_ERROR.findall(stderr):
        theirs[rank] = line  # the last error line a rank printed is its exception
    if theirs:
        return "; ".join(f"rank {r}: {line}" for r, line in sorted(theirs.items()))
    tail = [line for line in stderr.strip().splitlines() if line.strip()][-3:]
    return " / ".join(tail) or "no output"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    """Stop torchrun and its ranks (which run in sessions of their own); return the output."""
    ranks = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)  # torchrun's agent then stops its workers
    try:
        return proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *ranks]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.communicate()


def launch(
    module: str,
    args: Sequence[str] = (),
    *,
    nproc: int = 2,
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``python -m module *args`` as ``nproc`` processes under ``torchrun`` on this machine.

    The processes meet at ``127.0.0.1`` on a free port; each gets ``OMP_NUM_THREADS=1`` unless
    ``env`` or the environment sets it. If any rank fails, ``torchrun`` stops the others and
    this raises [`LaunchError`][nutshell.distributed.LaunchError] naming the rank and its
    exception; if the run outlives ``timeout`` seconds, every process is killed and the same
    error says so. Returns the finished process (``stdout``, ``stderr`` as text).

    Raises:
        ValueError: when ``nproc`` is not an int >= 1 or ``timeout`` is not positive.
        LaunchError: when a rank fails or the run times out.
    """
    if not isinstance(nproc, int) or isinstance(nproc, bool) or nproc < 1:
        raise ValueError(f"nproc must be an int >= 1, got {nproc!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    full_env = dict(os.environ)
    full_env.setdefault("OMP_NUM_THREADS", "1")
    if sys.platform.startswith("linux"):
        full_env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    full_env.update(env or {})
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        "-m",
        module,
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stdout, stderr = _stop(proc)
        raise LaunchError(
            f"torchrun of {module} on {nproc} processes did not finish within {timeout:g} s "
            f"and was killed ({_why(stderr)})",
            None,
            stdout,
            stderr,
        ) from None
    if proc.returncode != 0:
        raise LaunchError(
            f"torchrun of {module} on {nproc} processes failed with exit code "
            f"{proc.returncode}: {_why(stderr)}",
            proc.returncode,
            stdout,
            stderr,
        )
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
