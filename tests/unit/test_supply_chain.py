"""Set-up installs only what the lock files pin, and refuses a package whose hash does not match."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests import servers

REPO = Path(__file__).resolve().parents[2]
LOCKS = [REPO / "requirements.lock", REPO / "scripts" / "tools.lock"]
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def requirements(lock: Path) -> list[str]:
    """The lock's requirements, one logical line each (continuations joined, comments dropped)."""
    logical = re.sub(r"\\\n", " ", lock.read_text(encoding="utf-8"))
    lines = (line.split("#", 1)[0].strip() for line in logical.splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_every_locked_package_is_pinned_with_a_hash(lock: Path) -> None:
    entries = requirements(lock)
    assert entries, f"{lock} is empty"
    for entry in entries:
        requirement, *options = entry.split()
        assert PINNED.match(requirement), f"not an exact pin from an index: {entry[:80]}"
        assert options, f"{requirement} has no hash"
        assert all(HASH.match(option) for option in options), f"{requirement}: unexpected option"


def test_setup_installs_with_hashes_required_and_locks_with_hashes() -> None:
    setup = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    commands = [line for line in setup.splitlines() if not line.lstrip().startswith("#")]
    installs = [line for line in commands if re.search(r"pip(\"|\s)+(sync|install)\b", line)]
    assert installs, "scripts/setup.sh installs nothing?"
    for line in installs:
        assert "--require-hashes" in line, f"installs without checking hashes: {line.strip()}"
    compiles = [line for line in commands if "pip compile" in line]
    assert compiles and all("--generate-hashes" in line for line in compiles)


# --- a tampered hash is refused -------------------------------------------------------------------------

PROBE = "bienvenue_hash_probe"


def uv() -> str:
    """The uv that scripts/setup.sh uses: the one on PATH, else its pinned copy in .tools/."""
    found = shutil.which("uv") or (REPO / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv not found: run scripts/setup.sh"
    return str(found)


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(directory: Path) -> Path:
    """A minimal, valid wheel built here: the check runs offline, without any index or cache."""
    info = f"{PROBE}-1.0.dist-info"
    files = {
        f"{PROBE}/__init__.py": b"VERSION = '1.0'\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: bienvenue-hash-probe\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = directory / f"{PROBE}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("wheels")
    build_wheel(directory)
    return directory


@pytest.fixture
def sandbox(wheels: Path, tmp_path: Path) -> Path:
    """A fresh, empty venv per test: uv does not check again a package that is already installed."""
    subprocess.run(
        [
            uv(),
            "venv",
            "--quiet",
            "--offline",
            "--python",
            str(REPO / ".venv" / "bin" / "python"),
            str(tmp_path / "venv"),
        ],
        check=True,
        capture_output=True,
    )
    shutil.copytree(wheels, tmp_path / "wheels")
    return tmp_path


def sync(sandbox: Path, lock_text: str) -> subprocess.CompletedProcess[str]:
    """What scripts/setup.sh runs, on a one-package lock, from the local wheel only."""
    lock = sandbox / "requirements.lock"
    lock.write_text(lock_text, encoding="utf-8")
    return subprocess.run(
        [
            uv(),
            "pip",
            "sync",
            "--require-hashes",
            "--offline",
            "--no-index",
            "--find-links",
            str(sandbox / "wheels"),
            "--cache-dir",
            str(sandbox / "cache"),
            "--python",
            str(sandbox / "venv" / "bin" / "python"),
            str(lock),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def wheel_sha256(sandbox: Path) -> str:
    return hashlib.sha256(next((sandbox / "wheels").glob("*.whl")).read_bytes()).hexdigest()


def installed(sandbox: Path) -> bool:
    return bool(list((sandbox / "venv").glob(f"lib/python*/site-packages/{PROBE}/__init__.py")))


def test_a_package_with_its_true_hash_installs(sandbox: Path) -> None:
    """The control: the refusals below come from the hash, not from the set-up of this test."""
    result = sync(sandbox, f"bienvenue-hash-probe==1.0 \\\n    --hash=sha256:{wheel_sha256(sandbox)}\n")
    assert result.returncode == 0, result.stderr
    assert installed(sandbox)


def test_a_tampered_hash_makes_the_install_fail(sandbox: Path) -> None:
    tampered = wheel_sha256(sandbox)[::-1]
    result = sync(sandbox, f"bienvenue-hash-probe==1.0 \\\n    --hash=sha256:{tampered}\n")
    assert result.returncode != 0
    assert "hash mismatch" in result.stderr.lower()
    assert not installed(sandbox)


def test_a_package_without_a_hash_is_refused(sandbox: Path) -> None:
    result = sync(sandbox, "bienvenue-hash-probe==1.0\n")
    assert result.returncode != 0
    assert "must have a hash" in result.stderr.lower()
    assert not installed(sandbox)


# --- nothing leaves the machine -------------------------------------------------------------------------


def test_rasa_telemetry_is_off_for_everything_make_runs() -> None:
    """Rasa sends usage statistics and error reports to its publisher unless told not to: every target's
    commands (scripts, servers, tests) see the Makefile's setting, whatever the caller's environment says."""
    probe = "telemetry-probe: ; @echo $$RASA_TELEMETRY_ENABLED"
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", "Makefile", "--eval", probe, "telemetry-probe"],
        cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "true"},
    )
    assert result.stdout.strip() == "false"


def test_servers_started_by_the_tests_get_telemetry_off_and_nothing_else_unasked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    monkeypatch.setenv("MATTERMOST_URL", "https://stray.example")
    env = servers.server_environment({"BIENVENUE_TRACKER_DB": "x.db"})
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["BIENVENUE_TRACKER_DB"] == "x.db"
    assert "MATTERMOST_URL" not in env
