"""Collect every paired page under docs/ as a test (see nutshell.literate.pytest_plugin)."""

pytest_plugins = ["nutshell.literate.pytest_plugin"]
