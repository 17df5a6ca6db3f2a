"""run_studio refuses a port that is taken, saying how to choose another, instead of starting
a web server or stand-in that would crash and be restarted forever."""

import socket

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_busy_web_port_is_refused_with_the_make_variable_to_change(busy_port):
    with pytest.raises(CommandError, match=rf"Port {busy_port} .*make run PORT="):
        call_command("run_studio", "--port", str(busy_port))


def test_a_busy_standin_port_is_refused_with_the_make_variable_to_change(busy_port, settings):
    settings.USING_STANDIN = True
    settings.STUDIO_STANDIN_PORT = busy_port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(CommandError, match=rf"Port {busy_port} .*STANDIN_PORT="):
        call_command("run_studio", "--port", str(free))
