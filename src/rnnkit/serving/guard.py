"""What a request must pass before it reaches a model: the API key, the body-size cap and
the per-field limits (:class:`ServeLimits`); and the refusal to serve a network address
without a key."""

from __future__ import annotations

import codecs
import dataclasses
import hmac
import ipaddress
import json
from typing import Any

from starlette.exceptions import HTTPException

from rnnkit.errors import ConfigError

API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "RNNKIT_API_KEY"


@dataclasses.dataclass(frozen=True)
class ServeLimits:
    """The largest request the server accepts; anything bigger is answered with a 413.

    Args:
        max_texts: texts in one ``classify`` request.
        max_text_length: characters in one text.
        max_history: periods in one ``forecast`` request's ``history``.

    Example:
        >>> ServeLimits(max_texts=64).max_texts
        64
    """

    max_texts: int = 256
    max_text_length: int = 10_000
    max_history: int = 10_000

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                flag = "--" + field.name.replace("_", "-")
                raise ConfigError(f"{flag} must be an integer >= 1, got {value!r}.")

    @property
    def max_body_bytes(self) -> int:
        """A byte cap on any request body, derived from the other limits.

        Generous enough for the largest valid request (a JSON escape such as ``\\u00e9``
        takes 6 bytes per character); it only stops a client from making the server read
        gigabytes before the per-field limits can answer.
        """
        return max(self.body_bytes("classify"), self.body_bytes("forecast"))

    def body_bytes(self, job: str) -> int:
        """The byte cap on the body of one endpoint (``forecast`` or ``classify``): a
        forecast body need not be as large as the largest batch of texts.

        Example:
            >>> ServeLimits().body_bytes("forecast")
            2065536
        """
        if job == "forecast":
            return self.max_history * 200 + 64 * 1024
        return self.max_texts * (6 * self.max_text_length + 8) + 64 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuses to serve on a non-loopback address without an API key.

    A model on a network address without a key would answer anyone who can reach the
    machine, so this is an error rather than a warning.
    """
    if not is_loopback(host) and not api_key:
        raise ConfigError(
            f"--host {host} accepts connections from other machines, so an API key is "
            f"required: pass --api-key KEY or set {API_KEY_ENV}. Use --host 127.0.0.1 to "
            "serve this machine only."
        )


class Guard:
    """Pure ASGI middleware: the API key (401) and the body-size cap (413), before routing.

    Pure ASGI rather than ``BaseHTTPMiddleware``: it runs on every request, and this adds
    no task or stream per request.
    """

    def __init__(
        self, app: Any, api_key: str | None, max_body_bytes: int, limits: ServeLimits | None = None
    ) -> None:
        self.app = app
        self.expected = None if api_key is None else api_key.encode("utf-8")
        self.max_body_bytes = max_body_bytes
        # With limits, each endpoint's body has its own cap (bounding the memory and time
        # one request can take), never above max_body_bytes.
        self.limits = limits

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None:
            given = headers.get(API_KEY_HEADER.lower().encode("latin-1"), b"")
            # Constant-time comparison: the time taken does not reveal how much matched.
            if not hmac.compare_digest(given, self.expected):
                await send_error(
                    send,
                    401,
                    f"Missing or wrong API key: send it in the {API_KEY_HEADER} header.",
                    [(b"www-authenticate", b"ApiKey")],
                )
                return
        cap = self.max_body_bytes
        job = str(scope.get("path", "")).rstrip("/").rsplit("/", 1)[-1]
        if self.limits is not None and job in ("forecast", "classify"):
            cap = min(cap, self.limits.body_bytes(job))
        too_large = (
            f"The request body is larger than {cap} bytes. Send fewer texts or periods per request."
        )
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > cap:
            await send_error(send, 413, too_large)
            return
        received = 0
        # JSON bodies are UTF-8 (RFC 8259): decoded as they arrive, so that a body that is
        # not gets a 422 naming the byte rather than FastAPI's "error parsing the body".
        decoder = codecs.getincrementaldecoder("utf-8")()

        async def counted() -> dict:
            # Bodies without a Content-Length (chunked) are counted as they arrive.
            nonlocal received
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > cap:
                raise HTTPException(413, too_large)  # FastAPI re-raises it to our handler
            try:
                decoder.decode(chunk, final=not message.get("more_body", False))
            except UnicodeDecodeError as err:
                # err.object is what was decoded: this chunk after any bytes held back
                # from the previous one (the start of a character split between chunks).
                offset = received - len(err.object) + err.start
                raise HTTPException(
                    422,
                    f"The request body is not UTF-8 text (byte 0x{err.object[err.start]:02x} at "
                    f"offset {offset}). Send JSON encoded as UTF-8.",
                ) from None
            return message

        await self.app(scope, counted, send)


async def send_error(send: Any, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
