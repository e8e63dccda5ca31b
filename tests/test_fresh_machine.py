"""The test command on a machine with Python only: no PostgreSQL configured, nothing answering on 127.0.0.1:5432.

A part of the suite runs in a subprocess inside a network namespace of its own (`unshare -n`: its loopback answers
nothing this machine's services listen on), so the tests must start their throwaway PostgreSQL, run on it, and
remove it. Run as root (CI is) or where unprivileged user namespaces are allowed (`unshare -rn`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a pytest of its own in a subprocess

ROOT = Path(__file__).resolve().parent.parent
# The migrations on an empty database, and the queries on a migrated copy: PostgreSQL as every other test uses it.
# (The whole of tests/storage and a bot over HTTP ran here before: twice the time, for what the suite runs anyway.)
PART = ["tests/storage/test_schema.py", "tests/storage/test_queries.py"]


def isolated() -> list[str]:
    """The command that runs the rest of a command line in a new network namespace, or skips (fails under CI)."""
    unshare = shutil.which("unshare")
    command = [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-rn"]
    if unshare is None or subprocess.run([*command, "true"], capture_output=True).returncode != 0:
        message = "cannot make a network namespace here (unshare -n as root, or unshare -rn)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return [c for c in command if c]


@pytest.mark.slow(seconds=40)
def test_with_nothing_on_5432_the_tests_start_their_own_postgresql_and_remove_it():
    environment = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL" and not k.startswith("PYTEST_")}
    probe = "from tests.support.databases import answers; print('5432 answers:', answers('127.0.0.1', 5432))"
    pytest_command = [sys.executable, "-m", "pytest", *PART, "-p", "no:cacheprovider", "-v", "-n", "2"]
    script = f'ip link set lo up && {sys.executable} -c "{probe}" && exec {" ".join(pytest_command)}'
    done = subprocess.run(
        [*isolated(), "sh", "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900
    )
    output = done.stdout + done.stderr
    assert "5432 answers: False" in output, output[-3000:]
    assert done.returncode == 0, output[-5000:]
    header = re.search(r"^PostgreSQL: (\S+) \(a throwaway server started for this run in (\S+): (.+)\)$", output, re.M)
    assert header, output[:3000]
    assert header.group(3) == "nothing answers on 127.0.0.1:5432"
    on_postgresql = re.findall(r"PASSED (\S+\[postgresql\S*\])", output)
    assert len(on_postgresql) >= 10, output[-3000:]
    assert not re.search(r"\b(SKIPPED|FAILED|ERROR)\b", output), output[-3000:]
    assert not Path(header.group(2)).exists(), f"the server's folder {header.group(2)} outlived the run"
