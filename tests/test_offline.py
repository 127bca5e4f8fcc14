"""The suite's own guard: tests cannot reach the network."""

import socket

import pytest

from conftest import NetworkUsed


def test_connecting_to_another_host_is_refused_before_any_packet():
    with pytest.raises(NetworkUsed, match="offline"):
        socket.create_connection(("example.com", 80), timeout=1)
    with pytest.raises(NetworkUsed, match="offline"):
        socket.socket().connect_ex(("93.184.215.14", 80))


def test_this_machine_stays_reachable():
    server = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    finally:
        server.close()
