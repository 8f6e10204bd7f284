"""Keep tokens, secrets and the webhook URL out of every log line."""

from __future__ import annotations

import logging


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def hide_secrets(*secrets: str) -> None:
    """Mask `secrets` in all records; HTTP client request lines (URLs with the token) are muted."""
    secret_filter = SecretFilter(list(secrets))
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
    logging.getLogger("httpx").setLevel(logging.WARNING)
