"""Message catalogs (handlers/texts/<lang>.json) and Vietnamese/English number and date forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

TEXTS = Path(__file__).parent / "texts"
LANGUAGES = ("vi", "en")


@cache
def catalog(lang: str) -> dict[str, str]:
    return dict(json.loads((TEXTS / f"{lang}.json").read_text(encoding="utf-8")))


def t(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang` (Vietnamese when `lang` is unknown), filled with `values`."""
    texts = catalog(lang if lang in LANGUAGES else "vi")
    return texts[key].format(**values) if values else texts[key]


def number(lang: str, value: float, digits: int = 0) -> str:
    """15.533 and 84,46 in Vietnamese; 15,533 and 84.46 in English."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale="vi_VN" if lang == "vi" else "en_US")


def day(value: date) -> str:
    """dd/mm/yyyy in both languages, as Vietnamese offices write dates."""
    return value.strftime("%d/%m/%Y")


def moment(value: datetime, tz: ZoneInfo) -> str:
    """dd/mm/yyyy HH:MM in the city's time zone (a zoneless value is UTC, as stored)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime("%d/%m/%Y %H:%M")
