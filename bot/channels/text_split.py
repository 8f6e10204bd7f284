"""Cutting a long text into messages a platform accepts: 4,096 on Telegram, 2,000 on Zalo.

Lengths are counted in UTF-16 code units, as Telegram counts them; Zalo does not say how it
counts, and a UTF-16 count is never smaller than a count of characters, so a piece that fits
here fits there whichever way it is counted.
"""

from __future__ import annotations

from itertools import accumulate, takewhile


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units (characters beyond U+FFFF count twice)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` units, cut at line ends; a longer line is cut at spaces.

    Lines stay whole and in order; only a line longer than `limit` is cut, at the last space
    that fits, and only a word longer than `limit` is cut inside (nothing else could send it).
    Trailing spaces and blank lines at a cut are dropped; a blank text gives no pieces.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2: a character may take two units")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in _fit_line(line.rstrip(), limit):
            candidate = f"{current}\n{part}" if current else part
            if units(candidate) <= limit:
                current = candidate
            else:
                pieces, current = _flush(pieces, current), part
    return _flush(pieces, current)


def _fit_line(line: str, limit: int) -> list[str]:
    """`line` as parts of at most `limit` units, cut at spaces where there are any."""
    parts: list[str] = []
    while units(line) > limit:
        # The longest prefix that fits, counted in units (an emoji takes two).
        totals = accumulate(units(ch) for ch in line)
        fits = sum(1 for _ in takewhile(lambda total: total <= limit, totals))
        space = line.rfind(" ", 0, fits + 1)  # a space right after the prefix is a fine cut
        cut = space if space > 0 else fits
        parts.append(line[:cut].rstrip())
        line = line[cut:].lstrip(" ")
    parts.append(line)
    return parts


def _flush(pieces: list[str], current: str) -> list[str]:
    current = current.rstrip()
    return [*pieces, current] if current.strip() else pieces
