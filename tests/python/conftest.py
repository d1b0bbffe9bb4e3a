"""Starts `skyql emulator` once per test module and hands tests its URL and credentials.

The binary comes from $SKYQL_BIN (default: target/debug/skyql of this checkout) and the
aiplatform Discovery document from $SKYQL_DISCOVERY_DIR (default: .discovery of this
checkout), as `cargo xtask fetch-discovery` extracts it.
"""

import json
import os
import pathlib
import signal
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _binary():
    path = pathlib.Path(os.environ.get("SKYQL_BIN", ROOT / "target" / "debug" / "skyql"))
    if not path.exists():
        pytest.fail(f"skyql binary not found at {path}: build it (cargo build -p skyql-cli) or set SKYQL_BIN")
    return path


def _discovery_folder(needs):
    """The pinned Discovery documents' folder, which must hold `needs`."""
    folder = pathlib.Path(os.environ.get("SKYQL_DISCOVERY_DIR", ROOT / ".discovery"))
    if not (folder / needs).exists():
        pytest.fail(f"{folder} has no {needs}: run cargo xtask fetch-discovery or set SKYQL_DISCOVERY_DIR")
    return folder


@pytest.fixture(scope="session")
def skyql_bin():
    """The skyql binary every test module runs."""
    return _binary()


@pytest.fixture(scope="session")
def discovery_folder():
    """The pinned Discovery documents (compute's among them)."""
    return _discovery_folder("compute.v1.json")


class Emulator:
    def __init__(self, proc, base_url, key_file, user_file, discovery_file):
        self.proc = proc
        self.base_url = base_url
        self.key_file = key_file
        self.user_file = user_file
        self.discovery_file = discovery_file

    @property
    def key(self):
        return json.loads(pathlib.Path(self.key_file).read_text())

    @property
    def document(self):
        return pathlib.Path(self.discovery_file).read_text()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("emulator")
    key_file = tmp / "key.json"
    user_file = tmp / "user.json"
    discovery = _discovery_folder("aiplatform.v1.json") / "aiplatform.v1.json"
    proc = subprocess.Popen(
        [
            str(_binary()),
            "emulator",
            "--addr", "127.0.0.1:0",
            "--credentials-out", str(key_file),
            "--authorized-user-out", str(user_file),
            "--clock", "frozen",
            "--seed-jobs", "40",
            "--operation-polls", "2",
            "--discovery", str(discovery),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"emulator did not start: {base_url!r} {proc.stderr.read()}")
    yield Emulator(proc, base_url, key_file, user_file, discovery)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0, proc.stderr.read()
