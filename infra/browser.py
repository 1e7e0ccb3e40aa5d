"""Make sure Debian's Chromium is installed for the browser tests (never a downloaded build)."""

from __future__ import annotations

import os
import shutil
import subprocess

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> str:
    """Install the Debian packages chromium and chromium-driver when missing (needs root)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "Chromium is missing: install Debian's packages with "
            "'sudo apt-get install -y chromium chromium-driver' and run again"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env
    )
    return CHROMIUM
