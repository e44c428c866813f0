"""Collect every paired page under docs/ as a test (see nutshell.literate.pytest_plugin)."""

pytest_plugins = ["nutshell.literate.pytest_plugin"]


def pytest_configure(config):
    """With ``NUTSHELL_CUDA_LOG=path``, record which tests allocated CUDA memory (for reports)."""
    import os

    path = os.environ.get("NUTSHELL_CUDA_LOG")
    if path:
        config.pluginmanager.register(_CudaLog(path), "nutshell-cuda-log")


class _CudaLog:
    def __init__(self, path):
        self.path, self.used, self.before = path, [], 0

    @staticmethod
    def _allocations() -> int:
        """CUDA allocations so far in this process (0 before CUDA is first used)."""
        import torch

        if not torch.cuda.is_initialized():
            return 0
        return torch.cuda.memory_stats().get("allocation.all.allocated", 0)

    def pytest_runtest_setup(self, item):
        self.before = self._allocations()

    def pytest_runtest_teardown(self, item):
        if self._allocations() > self.before:
            self.used.append(item.nodeid)

    def pytest_sessionfinish(self, session):
        import json

        with open(self.path, "w") as f:
            json.dump(self.used, f)
