"""The `tiendo` command line: exit 0 ok, 1 user error (a message, no traceback), 2 usage.

Output cut short by its reader (`| head`) ends quietly with 1. Everything it says comes from the
catalogs (handlers/texts/cli.<lang>.json), in DEFAULT_LANGUAGE (Vietnamese when it is unset or
unusable), including the help and what is wrong with a setting."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

import bot.commands
from bot.config import ConfigError, load_settings, operator_language
from bot.errors import UserError
from handlers.i18n import t
from storage.db import DatabaseUnavailable

__all__ = ["UserError", "build_parser", "main"]


def build_parser(lang: str = "vi") -> argparse.ArgumentParser:
    """Every command, its help written in `lang`."""
    parser = argparse.ArgumentParser(prog="tiendo", description=t(lang, "cli_description"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(bot.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.commands.{module_info.name}")
        module.register(subparsers, lang)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, so that a reader gone away is noticed here too
    except BrokenPipeError:
        # The reader went away (`tiendo units list | head`): stop quietly. As Python's
        # documentation recommends, stdout then points at devnull, so that the interpreter's
        # own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _run(argv: Sequence[str] | None) -> int:
    lang = operator_language()  # the help is written before the other settings are read
    args = build_parser(lang).parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # Alembic narrates every migration check at INFO; only its warnings matter to a user.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        result = args.func(args, settings)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except ConfigError as exc:
        print(t(lang, "cli_config_error", problem=exc), file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        url, reason = exc.args
        print(t(lang, "cli_database_unavailable", url=url, reason=reason), file=sys.stderr)
        return 1
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
