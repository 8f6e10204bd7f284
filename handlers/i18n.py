"""Message catalogs (handlers/texts/<lang>.json for the chat, cli.<lang>.json for the command
line) and Vietnamese/English number and date forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

TEXTS = Path(__file__).parent / "texts"
LANGUAGES = ("vi", "en")
# The chat's texts, then the operator's (the `tiendo` command line, keys `cli_…`): one key space,
# so that one `t()` serves both and a key cannot mean two things.
PARTS = ("{lang}.json", "cli.{lang}.json")


class CatalogClash(ValueError):
    """Two catalog files of one language define the same keys (given as the error's args)."""


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every text of `lang`, the chat's and the command line's; a key defined twice is refused."""
    return merged(
        *(
            json.loads((TEXTS / part.format(lang=lang)).read_text(encoding="utf-8"))
            for part in PARTS
        )
    )


def merged(*parts: dict[str, str]) -> dict[str, str]:
    """The parts as one catalog; a key in two parts raises CatalogClash rather than letting the
    later part silently win."""
    texts: dict[str, str] = {}
    for part in parts:
        twice = sorted(texts.keys() & part.keys())
        if twice:
            raise CatalogClash(*twice)
        texts.update(part)
    return texts


def t(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang` (Vietnamese when `lang` is unknown), filled with `values`."""
    texts = catalog(lang if lang in LANGUAGES else "vi")
    return texts[key].format(**values) if values else texts[key]


def number(lang: str, value: float, digits: int = 0) -> str:
    """15.533 and 84,46 in Vietnamese; 15,533 and 84.46 in English."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale="vi_VN" if lang == "vi" else "en_US")


def one_decimal(lang: str, value: float) -> str:
    """A share with one decimal, 20,4 in Vietnamese and 20.4 in English, rounded as Python's
    `{:.1f}` rounds (which is not always as `number` rounds: 20.15 gives 20.1, not 20.2), so that
    the command line's figures stay the ones it has always printed."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def day(value: date) -> str:
    """dd/mm/yyyy in both languages, as Vietnamese offices write dates."""
    return value.strftime("%d/%m/%Y")


def moment(value: datetime, tz: ZoneInfo) -> str:
    """dd/mm/yyyy HH:MM in the city's time zone (a zoneless value is UTC, as stored)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime("%d/%m/%Y %H:%M")
