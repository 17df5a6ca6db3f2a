"""The image API client against hostile answers: a key echoed back (issue 14, item 8) and
`url` answers pointing inside the network (item 7). Real servers throughout: the stand-in, and
small local HTTP servers standing for a gateway's file host and for an internal service."""

import http.server
import io
import json
import logging
import socket
import threading

import PIL.Image
import pytest
from django.core.management import call_command

from gallery import imagesapi, jobs
from gallery.imagesapi import client
from gallery.models import Attempt, Job

pytestmark = pytest.mark.django_db

# Not shaped like an OpenAI key, so only redaction of the configured key itself can catch it.
SECRET = "gw-Live-7f3c9e1d5b2a48c6a0e4d8b1f9c3e7a5"


def run_to_the_end(owner, prompt):
    job = jobs.create_job(owner=owner, prompt=prompt, model="gpt-image-1", size="1024x1024")
    claimed = jobs.claim_job(job.pk)
    assert claimed is not None
    jobs.run_job(claimed)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("fault", ["echo_key", "echo_key_redirect"])
def test_a_key_the_api_echoes_is_kept_nowhere(
    fault, alice, alice_client, standin, monkeypatch, caplog
):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    job = run_to_the_end(alice, f"a leaky gateway [fault:{fault}]")
    assert job.status == Job.Status.FAILED
    # The echo arrived (in the request id header) and was redacted, not dropped unseen.
    assert "[redacted]" in job.request_id
    attempt = Attempt.objects.get(job=job)
    dump = io.StringIO()
    call_command("dumpdata", "gallery", stdout=dump)
    page = alice_client.get(job.get_absolute_url()).content.decode()
    studio_logs = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("gallery.imagesapi.standin")  # the leaky "gateway" itself
    )
    for kept in (job.error, job.request_id, job.error_code, attempt.error, attempt.request_id):
        assert SECRET not in kept
    assert SECRET not in dump.getvalue()
    assert SECRET not in page
    assert SECRET not in studio_logs


# --- item 7: `url` answers ----------------------------------------------------------------


class _Site:
    """A real local HTTP server: `routes` maps a path to (status, headers, body); every
    request's path is recorded in `hits`."""

    def __init__(self):
        site = self
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits.append(self.path)
                if self.path == "/hang-up":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, body = site.routes.get(self.path, (404, {}, b"no"))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    if value is not None:  # None: leave the header out
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def gateway(settings, monkeypatch):
    """A local 'API' (the configured host, like the stand-in) whose answers link to `url`."""
    site = _Site()
    settings.OPENAI_BASE_URL = f"{site.url}/v1"
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def answer_with(url):
        body = json.dumps({"created": 1, "data": [{"url": url}]}).encode()
        site.routes["/v1/images/generations"] = (200, {"Content-Type": "application/json"}, body)

    site.answer_with = answer_with
    yield site
    site.close()


@pytest.fixture
def internal():
    """A service inside the studio's network that must never be reached."""
    site = _Site()
    site.routes["/secret.png"] = (200, {}, png_bytes())
    yield site
    site.close()


def png_bytes(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def generate():
    return imagesapi.generate(model="gpt-image-1", prompt="a red fox", size="1024x1024")


def test_a_link_on_the_configured_api_host_is_downloaded(gateway):
    data = png_bytes()
    gateway.routes["/files/out.png"] = (200, {}, data)
    gateway.answer_with(f"{gateway.url}/files/out.png")
    assert generate().images == [data]


def test_a_redirect_hop_on_the_api_host_is_followed(gateway):
    data = png_bytes()
    gateway.routes["/files/a.png"] = (302, {"Location": "/files/b.png"}, b"")
    gateway.routes["/files/b.png"] = (200, {}, data)
    gateway.answer_with(f"{gateway.url}/files/a.png")
    assert generate().images == [data]


@pytest.mark.parametrize(
    "link",
    [
        "{internal}/secret.png",  # plain http to another host
        "https://localhost:{port}/secret.png",  # https, but loopback
        "https://127.0.0.1:{port}/secret.png",
        "https://[::1]:{port}/secret.png",
        "file:///etc/passwd",
    ],
)
def test_links_into_the_local_network_are_refused(gateway, internal, link):
    port = internal.url.rsplit(":", 1)[1]
    gateway.answer_with(link.format(internal=internal.url, port=port))
    with pytest.raises(imagesapi.PermanentError) as refused:
        generate()
    assert internal.hits == []
    assert "Errno" not in refused.value.message


def test_a_redirect_into_the_local_network_is_refused_at_its_hop(gateway, internal):
    port = internal.url.rsplit(":", 1)[1]
    gateway.routes["/files/a.png"] = (302, {"Location": f"{internal.url}/secret.png"}, b"")
    gateway.routes["/files/b.png"] = (
        302,
        {"Location": f"https://localhost:{port}/secret.png"},
        b"",
    )
    for start in ("/files/a.png", "/files/b.png"):
        gateway.answer_with(f"{gateway.url}{start}")
        with pytest.raises(imagesapi.PermanentError):
            generate()
    assert internal.hits == []


def test_a_name_resolving_to_any_private_address_is_never_connected_to(
    gateway, internal, monkeypatch
):
    internal_port = internal.httpd.server_address[1]
    real_resolve, real_connect = socket.getaddrinfo, socket.create_connection
    # DNS under an attacker's control: a loopback answer beside a public one (the public one
    # is never used: nothing here reaches the internet).
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", internal_port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", internal_port)),
    ]
    connected = []
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (
            answers if host == "images.cdn.example" else real_resolve(host, *a, **k)
        ),
    )
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *a, **k: connected.append(address) or real_connect(address, *a, **k),
    )
    gateway.answer_with(f"https://images.cdn.example:{internal_port}/secret.png")
    with pytest.raises(imagesapi.PermanentError, match="private or local"):
        generate()
    assert connected == [("127.0.0.1", gateway.httpd.server_address[1])]  # the API call only


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_count_as_public(address, public):
    assert client._public_only(address) is public


def test_a_download_larger_than_the_limit_is_refused_without_reading_it_all(gateway, settings):
    settings.STUDIO_API_MAX_IMAGE_BYTES = 1000
    gateway.routes["/files/big.png"] = (200, {}, png_bytes((400, 400)) + b"\0" * 5000)
    gateway.routes["/files/undeclared.png"] = (200, {"Content-Length": None}, b"\0" * 5000)
    for path in ("/files/big.png", "/files/undeclared.png"):
        gateway.answer_with(f"{gateway.url}{path}")
        with pytest.raises(imagesapi.PermanentError, match="STUDIO_API_MAX_IMAGE_BYTES"):
            generate()


def test_a_socket_error_is_described_not_quoted(gateway):
    gateway.answer_with(f"{gateway.url}/hang-up")
    with pytest.raises(imagesapi.TransientError) as failed:
        generate()
    message = failed.value.message
    assert message == "Could not download the image the API linked to (the connection failed)."
