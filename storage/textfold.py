"""Folding Vietnamese text for matching: no case, no diacritics, one spelling of i/y."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^0-9a-z]+")


def strip_marks(text: str) -> str:
    """Lower case without diacritics: "Thuỷ Nguyên" → "thuy nguyen", "Đồ Sơn" → "do son"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def words(text: str) -> list[str]:
    """The words of `text`, marks stripped, punctuation (&, -, ., …) treated as spaces."""
    return [word for word in _PUNCT.split(strip_marks(text)) if word]
