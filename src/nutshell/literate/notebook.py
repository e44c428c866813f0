"""Export a page with its outputs as a Jupyter notebook (the site's download link)."""

from __future__ import annotations

import base64
import copy

import nbformat
from nbformat.v4 import new_output


def to_notebook(page, result) -> str:
    """The page's cells (demo cells active) with the outputs of its last run, as ``.ipynb``."""
    nb = copy.deepcopy(page.notebook)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("active", None)
        cell["outputs"] = []
        cell["execution_count"] = None
        index = count
        count += 1
        if result is None:
            continue
        cell["execution_count"] = count
        for out in result.outputs(index):
            kind = out["type"]
            if kind == "text":
                cell.outputs.append(new_output("stream", name="stdout", text=out["text"]))
            elif kind == "result":
                cell.outputs.append(
                    new_output("execute_result", {"text/plain": out["text"]}, execution_count=count)
                )
            elif kind == "html":
                cell.outputs.append(new_output("display_data", {"text/html": out["html"]}))
            elif kind == "claim":
                verdict = "holds" if out["holds"] else "does not hold"
                text = f"Claim {verdict}: {out['statement']} (measured {out['measured']})"
                cell.outputs.append(
                    new_output("display_data", {"text/plain": text, "text/markdown": f"**{text}**"})
                )
            elif kind == "figure":
                png = base64.b64encode((result.folder / out["file"]).read_bytes()).decode()
                data = {"image/png": png, "text/plain": out.get("title") or "<Figure>"}
                cell.outputs.append(new_output("display_data", data))
    nbformat.validate(nb)
    return nbformat.writes(nb)
