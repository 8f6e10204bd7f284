"""Importing this module registers every dialog's step table."""

from handlers import extension, language, report  # noqa: F401
