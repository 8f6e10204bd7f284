"""One Zalo Bot Platform event, parsed once at the edge from whatever came in.

The platform's shapes vary (see ../shared/zalo-api.md): the event may be bare
`{event_name, message}` or wrapped as `{ok, result}`; `event_name` may be missing; ids may be
strings or numbers; the sender's name is `display_name` or `first_name`. `parse_event` accepts
all of them and turns anything else into None, never an exception: the caller logs it and
moves on. Numbered answers ("2", "2.", "số 2") are resolved by handlers.steps.resolve, which
every channel shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from handlers.events import ChatType, clean_line, clean_text

Kind = Literal["text", "image", "document", "sticker", "voice", "unsupported"]
KINDS: tuple[Kind, ...] = ("text", "image", "document", "sticker", "voice", "unsupported")

MAX_TEXT = 8_000  # far above what a person types; a longer text is cut, never refused
MAX_NAME = 128
MAX_FILE_NAME = 255
MAX_URL = 2_048
MAX_FILE_SIZE = 2**53  # JSON's safe integers; a larger "size" is nonsense, not a file
# Ids and dates outside these bounds are not the platform's: Zalo ids are short hex strings.
_ID = re.compile(r"[0-9A-Za-z_.:@\-]{1,100}")
_EVENT_NAME = re.compile(r"message\.([a-z_]{1,32})\.received")
_MIME = re.compile(r"[\w.+\-]{1,63}/[\w.+\-]{1,63}")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_EARLIEST_MS = int(_EARLIEST.timestamp() * 1000)
_LATEST_MS = int(_LATEST.timestamp() * 1000)


@dataclass(frozen=True)
class ZaloEvent:
    """A message event with every field checked, cleaned and bounded."""

    kind: Kind
    message_id: str
    date: datetime  # aware, UTC
    chat_id: str
    chat_type: ChatType
    sender_id: str
    sender_name: str
    text: str | None = None
    caption: str | None = None
    file_url: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    event_name: str | None = None  # as sent (cleaned), for the operator's log


def parse_event(payload: object, received_at: datetime | None = None) -> ZaloEvent | None:
    """The event in `payload` (either delivery shape), or None when it is not a usable one.

    `received_at` stands in for a missing `date`; a `date` that is there but impossible
    (negative, not a number, before 2000 or after 2100) makes the event unusable.
    """
    try:
        return _parse(payload, received_at)
    except (TypeError, ValueError, OverflowError, RecursionError):
        # Checked field by field below; this is the last guard, so hostile input is a None.
        return None


def millis_to_utc(value: object) -> datetime | None:
    """A platform time (milliseconds since 1970; seconds tolerated) as an aware UTC datetime."""
    number = _integer(value)
    if number is None:
        return None
    if _EARLIEST.timestamp() <= number < _LATEST.timestamp():
        # Some payloads may carry seconds: read that way, they fall in the same years.
        number *= 1000
    if not _EARLIEST_MS <= number < _LATEST_MS:
        return None
    return datetime.fromtimestamp(number / 1000, UTC)


def _parse(payload: object, received_at: datetime | None) -> ZaloEvent | None:
    event = _unwrap(payload)
    if event is None:
        return None
    message = event.get("message")
    if not isinstance(message, dict) and "message_id" in event:
        message = event  # a bare message, tolerated
    if not isinstance(message, dict):
        return None
    sender = message.get("from")
    if isinstance(sender, dict) and sender.get("is_bot") is True:
        return None  # never answer a bot, ours included
    chat = _chat(message.get("chat"), sender)
    message_id = _id(message.get("message_id"))
    date = _date(message, received_at)
    if chat is None or message_id is None or date is None:
        return None
    chat_id, chat_type, sender_id, sender_name = chat
    event_name = _str(event.get("event_name"), 64)
    kind, content = _content(message, event_name)
    return ZaloEvent(
        kind=kind,
        message_id=message_id,
        date=date,
        chat_id=chat_id,
        chat_type=chat_type,
        sender_id=sender_id,
        sender_name=sender_name,
        event_name=clean_line(event_name) if event_name else None,
        **content,
    )


def _unwrap(payload: object) -> dict[str, Any] | None:
    """The event itself: `result` of a `{ok: true, result}` wrapper, or the bare object."""
    if not isinstance(payload, dict):
        return None
    if "result" in payload and "message" not in payload:
        if payload.get("ok") is not True:
            return None
        result = payload["result"]
        return result if isinstance(result, dict) else None
    return payload


def _chat(chat: object, sender: object) -> tuple[str, ChatType, str, str] | None:
    """Chat id, chat type, sender id and name; None without a chat or a sender."""
    if not isinstance(chat, dict):
        return None
    chat_id = _id(chat.get("id"))
    if chat_id is None:
        return None
    sender_id = _id(sender.get("id")) if isinstance(sender, dict) else None
    raw_type = chat.get("chat_type")
    chat_type: ChatType
    if raw_type is None:
        chat_type = "private" if sender_id in (None, chat_id) else "group"
    elif isinstance(raw_type, str) and raw_type.strip().upper() == "PRIVATE":
        chat_type = "private"
    else:
        # GROUP, or a type we do not know: a group is the cautious reading (the bot answers
        # only commands there and shows no unit's data).
        chat_type = "group"
    if sender_id is None:
        if chat_type != "private":
            return None  # in a group, the chat does not tell who spoke
        sender_id = chat_id  # in a private chat the sender is the chat
    return chat_id, chat_type, sender_id, _name(sender)


def _name(sender: object) -> str:
    if not isinstance(sender, dict):
        return ""
    display = _str(sender.get("display_name"), MAX_NAME * 4)
    if display and clean_line(display):
        return clean_line(display)[:MAX_NAME]
    parts = (_str(sender.get(key), MAX_NAME * 4) for key in ("first_name", "last_name"))
    return clean_line(" ".join(p for p in parts if p))[:MAX_NAME]


def _date(message: dict[str, Any], received_at: datetime | None) -> datetime | None:
    if message.get("date") is None:
        return received_at.astimezone(UTC) if received_at else None
    return millis_to_utc(message["date"])


def _content(message: dict[str, Any], event_name: str | None) -> tuple[Kind, dict[str, Any]]:
    """The kind of message and its fields; the name decides, else the fields present do."""
    text = _clean(message.get("text"), MAX_TEXT)
    caption = _clean(message.get("caption"), MAX_TEXT)
    named = _named_kind(event_name)
    found: dict[Kind, dict[str, Any] | None] = {
        "image": _image(message),
        "document": _document(message),
        "voice": _voice(message),
        "sticker": {} if message.get("sticker") not in (None, "", {}, []) else None,
        "text": {} if text else None,
        "unsupported": {},
    }
    # Without a (usable) name, the most specific content present decides.
    kind = next(k for k, given in found.items() if given is not None) if named is None else named
    fields = found[kind]
    if fields is None:
        # Named, but its content is missing or unusable (a text event without text).
        return "unsupported", {"text": text, "caption": caption}
    return kind, {"text": text, "caption": caption, **fields}


def _named_kind(event_name: str | None) -> Kind | None:
    match = _EVENT_NAME.fullmatch((event_name or "").strip().lower())
    if match is None:
        return None
    name = match.group(1)
    return next((k for k in KINDS if k == name), "unsupported")


def _image(message: dict[str, Any]) -> dict[str, Any] | None:
    url = _url(message.get("photo_url")) or _url_in(message.get("photo"))
    return None if url is None else {"file_url": url, **_file_facts(message)}


def _document(message: dict[str, Any]) -> dict[str, Any] | None:
    document = message.get("document")
    url = _url(message.get("document_url")) or _url_in(document)
    if url is None:
        return None
    facts = _file_facts(document) if isinstance(document, dict) else {}
    return {"file_url": url, **(facts or _file_facts(message))}


def _voice(message: dict[str, Any]) -> dict[str, Any] | None:
    voice = message.get("voice")
    url = _url(message.get("voice_url")) or _url_in(voice)
    if url is None and voice in (None, "", {}):
        return None
    facts = _file_facts(voice) if isinstance(voice, dict) else {}
    return {"file_url": url, **facts}


def _url_in(value: object) -> str | None:
    """A URL given as the value itself, as its `url`, or as the last of a list of sizes."""
    if isinstance(value, list) and value:
        value = value[-1]
    if isinstance(value, dict):
        return _url(value.get("url")) or _url(value.get("photo_url"))
    return _url(value)


def _url(value: object) -> str | None:
    """An http(s) URL without spaces or controls; anything else is not fetched."""
    if not isinstance(value, str) or len(value) > MAX_URL:
        return None
    url = value.strip()
    if not url.lower().startswith(("https://", "http://")) or not url.isprintable():
        return None
    return None if " " in url else url


def _file_facts(source: dict[str, Any]) -> dict[str, Any]:
    """Name, type and size when given and sane; each one alone is dropped if not."""
    facts: dict[str, Any] = {}
    name = _clean(source.get("file_name"), MAX_FILE_NAME * 4)
    if name and clean_line(name):
        facts["file_name"] = clean_line(name)[:MAX_FILE_NAME]
    mime = _str(source.get("mime_type"), 127)
    if mime and _MIME.fullmatch(mime.strip()):
        facts["mime_type"] = mime.strip().lower()
    size = _integer(source.get("file_size"))
    if size is not None and size <= MAX_FILE_SIZE:
        facts["file_size"] = size
    return facts


def _id(value: object) -> str | None:
    """An id as a string: a short token, or a non-negative integer (numbers become strings)."""
    if isinstance(value, str):
        value = value.strip()
        return value if _ID.fullmatch(value) else None
    # A float id has lost its digits already (beyond 2**53): refused rather than guessed.
    number = _integer(value, floats=False)
    return None if number is None else str(number)


def _integer(value: object, floats: bool = True) -> int | None:
    """A non-negative integer below 2**63 from an int (never a bool), a whole float or digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif floats and isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        number = int(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > 20:
            return None
        number = int(value)
    else:
        return None
    return number if 0 <= number < 2**63 else None


def _str(value: object, limit: int) -> str | None:
    """`value` if it is a string, cut to `limit` characters before any cleaning work."""
    return value[:limit] if isinstance(value, str) else None


def _clean(value: object, limit: int) -> str | None:
    """A text without control characters (new lines and tabs kept), or None when empty."""
    text = _str(value, limit)
    if text is None:
        return None
    cleaned = clean_text(text)
    return cleaned if cleaned.strip() else None
