"""python-telegram-bot's HTTP calls over aiohttp instead of its default httpx.

Why: aiohttp already serves the webhook, and each Bot API call through httpx/httpcore cost this
bot about three times the event loop's time of the same call through aiohttp (httpcore looks for
`sniffio` on every request, and there are several layers of anyio wrappers); a dialog step
makes two or three such calls. python-telegram-bot documents BaseRequest as the place for this.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
DOWNLOAD_CHUNK = 64 * 1024


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        timeout = aiohttp.ClientTimeout(
            # aiohttp's connect timeout includes the wait for a free pooled connection.
            connect=_sum(
                _given(connect_timeout, self._connect_timeout),
                _given(pool_timeout, self._pool_timeout),
            ),
            sock_read=_given(read_timeout, self._read_timeout),
            sock_connect=_given(connect_timeout, self._connect_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


async def download(url: str, limit: int, read_timeout: float = MEDIA_WRITE_TIMEOUT) -> bytes:
    """The file at `url`, read as it streams and cut after `limit + 1` bytes.

    Whatever size the update claimed (or none): more than `limit` bytes back means too big,
    and no more than that is ever read. Faults are named as python-telegram-bot names them.
    Downloads are rare (evidence files), so each has a short-lived session of its own.
    """
    timeout = aiohttp.ClientTimeout(sock_connect=DEFAULT_TIMEOUT, sock_read=read_timeout)
    body = bytearray()
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise NetworkError(f"file download answered HTTP {response.status}")
            async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
                body += chunk
                if len(body) > limit:
                    break  # leaving the block closes the connection: the rest is never read
    except TimeoutError as err:
        raise TimedOut from err
    except aiohttp.ClientError as err:
        raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
    return bytes(body[: limit + 1])


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The parameters as a form (urlencoded, or multipart when files go with them)."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


def _given(value: object, default: float | None) -> float | None:
    if isinstance(value, int | float) or value is None:
        return value
    return default  # DEFAULT_NONE: the caller left it to us


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
