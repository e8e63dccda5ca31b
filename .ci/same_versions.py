"""`pip install -e .` and `pip install -e '.[test]'` install the same version of every package they share, and the
lock (constraints.txt) pins every package of the test environment. Run with the test environment's Python, from
the repository root: `python .ci/same_versions.py`. Exits 1 and names each package that differs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

OURS = {"citypeers", "pip", "setuptools"}  # the project itself and the installer, not dependencies


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """name -> version the lock pins for this Python (a universal lock has a marker where versions differ)."""
    pins: dict[str, str] = {}
    for line in Path("constraints.txt").read_text().splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement or line.lstrip().startswith("#"):
            continue
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, version = requirement.split("==")
        pins[canonical(name.strip())] = version.strip()
    return pins


def installed() -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}


def plain_install() -> dict[str, str]:
    """What the README's first command would install on a fresh machine: pip's own resolution, nothing installed."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--report",
                str(report),
                "-c",
                "constraints.txt",
                "-e",
                ".",
            ],
            check=True,
        )
        chosen = json.loads(report.read_text())["install"]
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in chosen}


def main() -> int:
    pins, tested, plain = locked(), installed(), plain_install()
    problems = [
        f"{name} {version} is in the test environment but the lock has {pins.get(name, 'no pin')}"
        for name, version in sorted(tested.items())
        if name not in OURS and pins.get(name) != version
    ]
    problems += [
        f"{name}: `pip install -e .` gets {version}, the tests ran {tested.get(name, 'without it')}"
        for name, version in sorted(plain.items())
        if name not in OURS and tested.get(name) != version
    ]
    for problem in problems:
        print(f"same versions: {problem}")
    shared = len(set(plain) - OURS)
    print(
        f"same versions: {shared} packages of `pip install -e .` at the versions the tests ran, "
        f"{len(set(tested) - OURS)} packages of the test environment as locked"
        if not problems
        else f"same versions: {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
