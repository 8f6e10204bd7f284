"""Zalo long polling: one event per call and no offset, so each is handed on at once.

The platform forgets an event once it returned it; the channel writes it down before handling
it (bot.channels.zalo), and this loop goes straight back to the platform for the next one
instead of waiting for the answer. An empty poll (408) is normal; faults are retried with
growing, jittered pauses; a refused token ends the loop. A stop cancels the poll in flight.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import suppress
from typing import Any

from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloError, ZaloRetryAfter, ZaloUnauthorized

log = logging.getLogger(__name__)
POLL_TIMEOUT = 30
MAX_BACKOFF = 60.0
_STOPPED = object()


async def poll(channel: ZaloChannel, stop: asyncio.Event, timeout: int = POLL_TIMEOUT) -> None:
    """Fetch events and hand each to the channel until `stop` is set."""
    failures = 0
    while not stop.is_set():
        try:
            raw = await _fetch_unless_stopped(channel, timeout, stop)
        except ZaloUnauthorized:
            raise
        except ZaloRetryAfter as exc:
            log.warning("zalo getUpdates: too many calls; waiting %.0fs", exc.retry_after)
            await _sleep(stop, exc.retry_after)
            continue
        except ZaloError as exc:
            failures += 1
            delay = min(MAX_BACKOFF, 0.5 * 2**failures) * (0.5 + random.random())
            log.warning("zalo getUpdates failed (%s); retrying in %.1fs", exc, delay)
            await _sleep(stop, delay)
            continue
        if raw is _STOPPED:
            break
        failures = 0
        if raw is not None:  # None: the poll ended empty (408)
            channel.accept(raw)


async def _fetch_unless_stopped(channel: ZaloChannel, timeout: int, stop: asyncio.Event) -> Any:
    """The next event, None after an empty poll, or _STOPPED when asked to stop first."""
    fetch = asyncio.ensure_future(channel.client.get_updates(timeout))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Also when this poller itself is cancelled: no request is left running unattended.
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
    if fetch.cancelled():
        return _STOPPED
    return fetch.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
