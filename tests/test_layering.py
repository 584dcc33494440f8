"""The layering that sseclient.py's docstring states, checked on its source:
the command line (layer 6) uses the library through its public names only,
and imports no HTTP client library."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "sseclient.py"
CLIENT_LIBRARIES = ("http.client", "requests", "urllib3", "httpx", "aiohttp")


def layer_six() -> tuple[set[str], list[ast.stmt]]:
    """The names that layers 1 to 5 define at the top level, and the
    statements of layer 6."""
    text = SOURCE.read_text("utf-8")
    heading = text.split("\n").index(
        "# 6. The command line, python -m sseclient, and its demo (public API only)"
    )
    above: set[str] = set()
    below: list[ast.stmt] = []
    for node in ast.parse(text).body:
        if node.lineno > heading:
            below.append(node)
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            above.add(node.name)
        for target in getattr(node, "targets", [getattr(node, "target", None)]):
            if isinstance(target, ast.Name):
                above.add(target.id)
    return above, below


def test_the_command_line_uses_no_private_name_of_the_layers_above() -> None:
    above, below = layer_six()
    used = {
        node.id
        for statement in below
        for node in ast.walk(statement)
        if isinstance(node, ast.Name)
    }
    # Private: one underscore (`__version__` is public).
    private = {n for n in above if n.startswith("_") and not n.startswith("__")}
    assert "_Reconnection" in private  # the check sees layer 5
    assert sorted(used & private) == []


def test_the_command_line_imports_no_http_client_library() -> None:
    _, below = layer_six()
    imported = set()
    for statement in below:
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
    assert "http.server" in imported  # the demo's server: the check sees imports
    assert [m for m in imported if m.startswith(CLIENT_LIBRARIES)] == []
