"""Assembles what every entry point needs: settings, the database engine and sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.db import check_connection, create_engine, session_factory


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def open_app(settings: Settings, *, check: bool = True) -> AsyncIterator[App]:
    """Open the database (DatabaseUnavailable if it cannot be reached); close it after."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    try:
        if check:
            await check_connection(engine)
        yield App(settings=settings, engine=engine, sessions=session_factory(engine))
    finally:
        await engine.dispose()
