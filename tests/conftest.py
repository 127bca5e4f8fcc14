from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

# Subprocesses started by tests (the CLI, the chat) never reach a model hub either.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class NetworkUsed(RuntimeError):
    """A test tried to reach a host other than this machine."""


def _local(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs offline: connecting or resolving a name other than this
    machine's raises NetworkUsed before any packet is sent."""
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family != getattr(socket, "AF_UNIX", None) and not (isinstance(address, tuple) and _local(address[0])):
            raise NetworkUsed(f"tests run offline; something tried to reach {address!r}")

    def guarded_connect(self, address):
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        check(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _local(host.decode() if isinstance(host, bytes) else host):
            raise NetworkUsed(f"tests run offline; something tried to resolve {host!r}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the seed articles."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


@pytest.fixture
def fake_settings() -> Settings:
    return Settings(model="fake")
