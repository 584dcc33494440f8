"""The built distribution, installed for real: an sdist built from this
checkout, a wheel built from that sdist, installed into a new virtualenv, and
used there as a user would: ``mypy --strict`` on a script that imports it,
``python -m sseclient`` and the ``sseclient`` console script.

The wheel installs the package ``sseclient/`` (sseclient.py as its
``__init__.py``, plus ``__main__.py`` and the PEP 561 marker ``py.typed``), so
that a user's type checker reads its annotations.  Building needs the build
backend in this environment (the ``test`` extra has it): nothing is fetched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import run_captured

pytest.importorskip("hatchling", reason="the build backend is in the test extra")

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120  # seconds: a hang fails instead of blocking the run

USER_SCRIPT = """\
from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from sseclient import Event, SSEClient


def events_of(client: SSEClient) -> Generator[Event, None, None]:
    return client.events()  # as sseclient-py types it


client = SSEClient([b"retry: 250\\n", b"data: hello\\n\\n"])
for event in events_of(client):
    if TYPE_CHECKING:
        reveal_type(event)
        reveal_type(event.data)
        reveal_type(event.retry)
    print(event.data, event.retry)
if TYPE_CHECKING:
    reveal_type(client.retry)
print(client.retry)
"""


def run(
    args: list[str | Path], cwd: Path, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH or MYPYPATH: only what is installed may be found.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    result = run_captured(args, TIMEOUT, cwd=cwd, env=env, input=input)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@dataclass
class Installed:
    sdist: Path
    wheel: Path
    python: Path  # the new virtualenv's interpreter
    bin: Path
    work: Path  # an empty directory to run in, away from this checkout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("packaging")
    dist = tmp / "dist"
    # The sdist, with the backend's PEP 517 hook, as a build frontend calls it.
    built = run(
        [
            sys.executable,
            "-c",
            "import sys; from hatchling.build import build_sdist;"
            " print(build_sdist(sys.argv[1]))",
            dist,
        ],
        cwd=ROOT,
    )
    sdist = dist / built.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp / "unpacked", filter="data")
        else:  # Python before 3.9.17
            archive.extractall(tmp / "unpacked")
    # The wheel, from the unpacked sdist, as `pip install SDIST` would build it.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-w",
            dist,
            tmp / "unpacked" / top,
        ],
        cwd=tmp,
    )
    (wheel,) = dist.glob("*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp)
    bin = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin / "python"
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], tmp)
    work = tmp / "work"
    work.mkdir()
    yield Installed(sdist, wheel, python, bin, work)


def test_sdist_has_the_tests_and_their_data(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tests = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {
        "tests/streams/synthetic/openai_chat_completion.sse",
        "tests/conftest.py",
    } <= tests
    missing = tests - names
    assert not missing
    expected = {"sseclient.py", "hatch_build.py", "pyproject.toml", "tox.ini"}
    expected.add("benchmarks/servers.py")  # tests/servers.py loads it
    assert expected | {"README.md", "LICENSE"} <= names


def test_wheel_installs_the_package_sseclient(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = archive.namelist()
        init = archive.read("sseclient/__init__.py")
    top = {name for name in names if ".dist-info/" not in name}
    assert top == {
        "sseclient/__init__.py",
        "sseclient/__main__.py",
        "sseclient/py.typed",
    }
    assert init == (ROOT / "sseclient.py").read_bytes()
    where = run(
        [installed.python, "-c", "import sseclient; print(sseclient.__file__)"],
        installed.work,
    )
    location = Path(where.stdout.strip())
    assert location.name == "__init__.py"
    assert location.parent.name == "sseclient"
    assert location.is_relative_to(installed.python.parent.parent)


def test_user_script_type_checks_strictly(installed: Installed) -> None:
    script = installed.work / "user.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    checked = run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--python-executable",
            installed.python,
            script.name,
        ],
        installed.work,
        check=False,
    )
    output = checked.stdout + checked.stderr
    revealed = [
        # Older mypy writes builtins.int and Union[X, None]: as mypy 2 writes them.
        re.sub(r"Union\[([\w.]+), None\]", r"\1 | None", found).replace("builtins.", "")
        for found in re.findall(r'note: Revealed type is "([^"]+)"', output)
    ]
    assert revealed == [
        "sseclient.Event",
        "str",
        "int | None",
        "int | None",
    ], output
    assert "error" not in output, output
    assert checked.returncode == 0, output
    ran = run([installed.python, script.name], installed.work)
    assert ran.stdout == "hello 250\n250\n"


def test_python_m_sseclient(installed: Installed) -> None:
    version = run([installed.python, "-m", "sseclient", "--version"], installed.work)
    assert version.stdout == f"sseclient {module_version()}\n"


def test_console_script(installed: Installed) -> None:
    script = installed.bin / ("sseclient.exe" if os.name == "nt" else "sseclient")
    version = run([script, "--version"], installed.work)
    assert version.stdout == f"sseclient {module_version()}\n"
    replayed = run([script, "--json", "-"], installed.work, input="id: 7\ndata: hi\n\n")
    assert json.loads(replayed.stdout) == {
        "id": "7",
        "event": "message",
        "data": "hi",
        "retry": None,
    }


def module_version() -> str:
    source = (ROOT / "sseclient.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', source, re.MULTILINE)
    assert found is not None
    return found.group(1)
