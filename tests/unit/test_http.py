"""The shared HTTP client against a real loopback server: retries, Retry-After, clear errors, no secrets."""

from __future__ import annotations

import httpx
import pytest

from shiftboard.adapters.base import AdapterContext, ConfigurationError, HttpSourceSettings, SourceError
from shiftboard.adapters.http import HttpClient, parse_retry_after
from tests.emulators.server import EmulatorServer, Fault, Response

SECRET = "tok-3f9a-very-secret"


def _ok(request):
    if request.headers.get("authorization") != f"Bearer {SECRET}":
        return Response(401, {"error": "invalid token"})
    return Response(200, {"ok": True, "path": request.path})


@pytest.fixture
def server():
    with EmulatorServer(_ok) as running:
        yield running


def _client(server, waits, **extra) -> HttpClient:
    settings = HttpSourceSettings(name="t", kind="t", url=server.url, timeout_s=extra.pop("timeout_s", 2), **extra)
    return HttpClient(settings, AdapterContext(sleep=waits.append), headers={"Authorization": f"Bearer {SECRET}"})


def test_retries_429_and_5xx_honouring_retry_after(server):
    waits: list[float] = []
    server.inject(Fault("429", retry_after=7), "503", Fault("429", retry_after=2))
    assert _client(server, waits).get_json("/x") == {"ok": True, "path": "/x"}
    assert len(server.requests) == 4
    assert waits[0] == 7 and waits[2] == 2
    assert 0 <= waits[1] <= 30  # jittered exponential backoff for the 503 without Retry-After


def test_gives_up_after_max_retries_with_the_status(server):
    waits: list[float] = []
    server.inject(*["500"] * 10)
    with pytest.raises(SourceError, match="500"):
        _client(server, waits, max_retries=2).get_json("/x")
    assert len(server.requests) == 3


def test_auth_failure_is_not_retried_and_hides_the_token(server):
    settings = HttpSourceSettings(name="t", kind="t", url=server.url)
    client = HttpClient(settings, AdapterContext(sleep=lambda s: None), headers={"Authorization": "Bearer wrong-tok"})
    with pytest.raises(ConfigurationError) as caught:
        client.get_json("/x")
    assert "401" in str(caught.value) and "wrong-tok" not in str(caught.value)
    assert len(server.requests) == 1


def test_non_json_and_truncated_answers_are_clear_errors(server):
    server.inject(*["html"] * 10)
    with pytest.raises(SourceError, match=r"not JSON \(text/html"):
        _client(server, [], max_retries=1).get_json("/x")
    server.faults.clear()
    server.inject("truncated")
    assert _client(server, []).get_json("/x")["ok"] is True  # the retry got the whole body


def test_a_slow_server_times_out_and_is_retried(server):
    server.inject(Fault("slow", delay_s=1.5))
    waits: list[float] = []
    assert _client(server, waits, timeout_s=0.5).get_json("/x")["ok"] is True
    assert len(waits) == 1


def test_connection_refused_is_a_clear_error():
    settings = HttpSourceSettings(name="t", kind="t", url="http://127.0.0.1:9", max_retries=1)
    with pytest.raises(SourceError, match="cannot connect"):
        HttpClient(settings, AdapterContext(sleep=lambda s: None)).get_json("/")


def test_retry_after_parsing():
    assert parse_retry_after("12", now=0) == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None


def test_tls_verification_is_on_by_default():
    settings = HttpSourceSettings(name="t", kind="t", url="https://127.0.0.1:1")
    assert settings.verify_tls is True
    client = HttpClient(settings, AdapterContext())
    assert isinstance(client._client, httpx.Client)


def test_backoff_without_retry_after_is_jittered_and_bounded_exponentially(server):
    """tenacity's wait_random_exponential(multiplier=0.5, max=30): the n-th wait is uniform in [0, min(30, 0.5·2ⁿ)]."""
    runs = []
    for _ in range(2):
        waits: list[float] = []
        server.inject(*["503"] * 6)
        assert _client(server, waits, max_retries=6).get_json("/x")["ok"] is True
        assert len(waits) == 6
        assert all(0 <= wait <= min(30, 0.5 * 2**n) for n, wait in enumerate(waits, start=1))
        runs.append(waits)
    # Jitter: two runs of the same failures do not wait the same (equal floats by chance: practically never).
    assert runs[0] != runs[1]
    assert len(set(runs[0])) > 1


def test_tls_is_verified_unless_a_source_turns_it_off(tmp_path):
    """A self-signed HTTPS server: refused by default, reached only with verify_tls = false."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with EmulatorServer(_ok) as server:
        server._server.socket = context.wrap_socket(server._server.socket, server_side=True)
        url = server.url.replace("http://", "https://")
        headers = {"Authorization": f"Bearer {SECRET}"}
        strict = HttpSourceSettings(name="t", kind="t", url=url, max_retries=0, timeout_s=5)
        with pytest.raises(SourceError, match="TLS certificate not trusted") as caught:
            HttpClient(strict, AdapterContext(sleep=lambda s: None), headers=headers).get_json("/x")
        assert SECRET not in str(caught.value)
        lax = HttpSourceSettings(name="t", kind="t", url=url, max_retries=0, timeout_s=5, verify_tls=False)
        assert HttpClient(lax, AdapterContext(sleep=lambda s: None), headers=headers).get_json("/x")["ok"] is True
