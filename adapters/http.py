"""HTTP plumbing shared by every HTTP adapter: timeouts, retries with backoff and jitter, Retry-After, and errors
that say what to fix without ever repeating a credential.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from shiftboard.adapters.base import Adapter, AdapterContext, ConfigurationError, HttpSourceSettings, SourceError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Never wait longer than this for one Retry-After; a longer ask fails the sync and the collector backs off.
MAX_RETRY_AFTER_S = 120.0

_AUTH_HINTS = {
    401: "401 Unauthorized: the credentials were refused; check the token",
    403: "403 Forbidden: the credentials lack permission for this endpoint",
    404: "404 Not Found: check the source's url",
}


class RetryableHTTPError(SourceError):
    """A 429, a 5xx or a dropped connection: worth another try after a pause."""


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - now)


class HttpClient:
    """A synchronous httpx client bound to one source's base URL, auth and retry policy."""

    def __init__(
        self,
        settings: HttpSourceSettings,
        context: AdapterContext,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.context = context
        options: dict[str, Any] = {
            "base_url": settings.url.rstrip("/"),
            "timeout": settings.timeout_s,
            "verify": settings.verify_tls,
            "headers": {"User-Agent": "shiftboard", "Accept": "application/json", **(headers or {})},
            "follow_redirects": True,
        }
        if auth is not None:
            options["auth"] = auth
        options.update(context.http_options)
        self._client = httpx.Client(**options)
        #: The last response's headers, for adapters that pace themselves by rate-limit headers.
        self.last_headers: httpx.Headers = httpx.Headers()
        self.requests = 0

    def close(self) -> None:
        self._client.close()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = wait_random_exponential(multiplier=0.5, max=30)(state)
        if isinstance(error, SourceError) and error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER_S)
        return backoff

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying 429/5xx/transport errors; raise SourceError with a clear reason otherwise."""
        return self._retrying(self._send_once, method, path, **kwargs)

    def _retrying(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(lambda error: isinstance(error, RetryableHTTPError)),
            sleep=self.context.sleep,
            reraise=True,
        )
        return retrying(call, *args, **kwargs)

    def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise RetryableHTTPError(f"timed out after {self.settings.timeout_s:g} s") from None
        except httpx.TransportError as error:
            untrusted = _certificate_error(error)
            if untrusted is not None:
                # Retrying cannot help, and the reason must say it is the certificate, not the network.
                raise SourceError(
                    f"TLS certificate not trusted ({untrusted}); fix the server's certificate, or set "
                    "verify_tls = false for a lab source",
                    retryable=False,
                ) from None
            raise RetryableHTTPError(f"cannot connect: {type(error).__name__}") from None
        self.last_headers = response.headers
        if response.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                raise SourceError(
                    f"{response.status_code}: the API asks to wait {retry_after:.0f} s",
                    retry_after=retry_after,
                )
            raise RetryableHTTPError(
                f"{response.status_code} {response.reason_phrase}".strip(), retry_after=retry_after
            )
        if response.status_code in _AUTH_HINTS:
            detail = error_detail(response)
            reason = _AUTH_HINTS[response.status_code] + (f" ({detail})" if detail else "")
            if response.status_code == 404:
                raise SourceError(reason, retryable=False)
            raise ConfigurationError(reason)
        if response.status_code >= 400:
            detail = error_detail(response)
            raise SourceError(
                f"{response.status_code} {response.reason_phrase}" + (f": {detail}" if detail else ""),
                retryable=False,
            )
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON; a body that is not JSON (truncated, an HTML error page) is retried, then reported."""
        return self._retrying(lambda: decode_json(self._send_once("GET", path, **kwargs)))

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST a JSON body and decode the JSON answer, with the same retries as get_json."""
        return self._retrying(lambda: decode_json(self._send_once("POST", path, json=body, **kwargs)))


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON, or a SourceError naming what came instead."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
        raise RetryableHTTPError(
            f"answer is not JSON ({kind}, {len(response.content)} bytes) from {response.request.url.path}"
        ) from None


def error_detail(response: httpx.Response, limit: int = 160) -> str:
    """A short, single-line error text from an API error body (its message field, else the start of the body)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    text = ""
    if isinstance(body, dict):
        for key in ("message", "error", "description", "detail", "errors"):
            if body.get(key):
                text = body[key] if isinstance(body[key], str) else json.dumps(body[key])
                break
    elif not response.headers.get("Content-Type", "").startswith("text/html"):
        text = response.text
    text = " ".join(text.split())
    return text[:limit]


def config_error_for_url(url: str) -> ConfigurationError | None:
    """A ConfigurationError when ``url`` is not an http(s) URL."""
    if not url.startswith(("http://", "https://")):
        return ConfigurationError(f"url must start with http:// or https://, got {url[:40]!r}")
    return None


class Pacer:
    """Spaces requests to at most ``per_minute`` a minute, allowing short bursts of ``burst`` (GCRA token bucket).

    Hand-written rather than a library (pyrate-limiter, limits): it must wait through the adapter context's
    injected clock and sleep so tests run instantly and deterministically, and it is a dozen lines.
    """

    def __init__(self, per_minute: float, context: AdapterContext, *, burst: int = 1) -> None:
        self.interval = 60.0 / per_minute
        self.tolerance = max(0, burst - 1) * self.interval
        self.context = context
        self._due = 0.0  # the theoretical arrival time of the next request
        self.waited = 0.0

    def wait(self) -> None:
        """Block (through the context's sleep) until one more request fits in the budget."""
        now = self.context.clock()
        due = max(self._due, now)
        delay = due - self.tolerance - now
        if delay > 0:
            self.waited += delay
            self.context.sleep(delay)
        self._due = due + self.interval


def _certificate_error(error: BaseException) -> str | None:
    """The verification message when ``error`` was caused by an untrusted TLS certificate, else None."""
    seen: BaseException | None = error
    for _ in range(10):  # the chain httpx → httpcore → ssl is short; the bound guards against a cycle
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or "verification failed"
        seen = seen.__cause__ or seen.__context__
    return None


class HttpAdapter(Adapter):
    """An adapter that talks to one HTTP API through an HttpClient.

    The client is made on first use, so a bad url or a missing token is reported by the sync that needs it (on the
    source's health line) rather than when the configuration is loaded; it is closed with the adapter.
    """

    _client: HttpClient | None = None

    def credentials(self) -> dict[str, Any]:
        """Keyword arguments for HttpClient that authenticate: ``auth=`` and/or ``headers=``."""
        raise NotImplementedError

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            error = config_error_for_url(self.settings.url)  # type: ignore[attr-defined]
            if error is not None:
                raise error
            self._client = HttpClient(self.settings, self.context, **self.credentials())  # type: ignore[arg-type]
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
