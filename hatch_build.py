"""Build hook: the wheel installs the typed package ``sseclient/``.

The source is one file, sseclient.py, so that vendoring it means copying one
file.  But PEP 561 gives a module of one file no way to say that it is typed:
only a package can carry the ``py.typed`` marker.  So the wheel holds

    sseclient/__init__.py   sseclient.py, byte for byte
    sseclient/__main__.py   runs main(), for ``python -m sseclient``
    sseclient/py.typed      empty

The last two are written here, to a temporary directory, rather than kept in
the repository.  Editable installs (``pip install -e .``) are left alone: they
put the checkout on sys.path, so ``import sseclient`` imports sseclient.py.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MAIN = '''"""python -m sseclient"""

from sseclient import main

if __name__ == "__main__":
    raise SystemExit(main())
'''


class TypedPackage(BuildHookInterface):  # type: ignore[type-arg]
    temporary: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        self.temporary = tempfile.mkdtemp()
        main = Path(self.temporary, "__main__.py")
        marker = Path(self.temporary, "py.typed")
        main.write_text(MAIN, encoding="utf-8")
        marker.write_text("", encoding="utf-8")
        build_data["force_include"].update(
            {
                str(Path(self.root, "sseclient.py")): "sseclient/__init__.py",
                str(main): "sseclient/__main__.py",
                str(marker): "sseclient/py.typed",
            }
        )

    def finalize(
        self, version: str, build_data: dict[str, Any], artifact_path: str
    ) -> None:
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None
