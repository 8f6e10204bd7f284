"""The words officers type for a status ("xong", "đang làm", "vướng", "on hold"), as data.

Each status an officer can choose has a list of words in each catalog (`status_words_<code>`,
separated by ";"). Typed text matches when it equals one of them with case, diacritics and
punctuation folded; words of both languages are accepted, whatever the person's language, since
a Vietnamese office may type English and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from handlers.i18n import LANGUAGES, catalog
from storage.textfold import words


def folded(text: str) -> str:
    return " ".join(words(text))


@cache
def _table(choices: tuple[str, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for choice in choices:
        for lang in LANGUAGES:
            for word in catalog(lang)[f"status_words_{choice}"].split(";"):
                if folded(word):
                    table.setdefault(folded(word), choice)
    return table


def choice_for(text: str, choices: Iterable[str]) -> str | None:
    """The status code among `choices` that `text` names, or None."""
    return _table(tuple(choices)).get(folded(text))
