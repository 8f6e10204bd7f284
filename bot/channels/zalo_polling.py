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

from bot.channels.stoppable import Stopped, unless_stopped
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloError, ZaloRetryAfter, ZaloUnauthorized

log = logging.getLogger(__name__)
POLL_TIMEOUT = 30
MAX_BACKOFF = 60.0


async def poll(channel: ZaloChannel, stop: asyncio.Event, timeout: int = POLL_TIMEOUT) -> None:
    """Fetch events and hand each to the channel until `stop` is set."""
    failures = 0
    while not stop.is_set():
        try:
            raw = await unless_stopped(channel.client.get_updates(timeout), stop)
        except Stopped:
            break
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
        failures = 0
        if raw is not None:  # None: the poll ended empty (408)
            channel.accept(raw)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
