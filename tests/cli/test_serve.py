"""`tandem serve`: a port that is taken or a host that does not exist is a clear error."""

from __future__ import annotations

import socket

import pytest

from tandem import Workspace
from tandem.cli.serve import bind
from tandem.errors import Conflict, InvalidValue
from tests.conftest import Tandem


def test_bind_gives_a_listening_socket_on_a_free_port() -> None:
    with bind("127.0.0.1", 0) as listener:
        host, port = listener.getsockname()
        assert host == "127.0.0.1" and port > 0
        with socket.create_connection((host, port), timeout=2):
            pass


def test_a_port_in_use_is_a_conflict_naming_it(workspace: Workspace, tandem: Tandem) -> None:
    with bind("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(Conflict, match=rf"127\.0\.0\.1:{port}") as caught:
            bind("127.0.0.1", port)
        assert caught.value.field == "port"
        result = tandem("serve", "-w", str(workspace.root), "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pick another --port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_host_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"no\.such\.host\.invalid"):
        bind("no.such.host.invalid", 8000)
