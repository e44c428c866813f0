"""The literate engine: pair pages with modules, run pages, cache them, serve mkdocs and pytest.

Nothing here is imported by ``import nutshell``: the engine is loaded by the CLI
(``python -m nutshell``), the mkdocs plugin and the pytest plugin only.
"""
