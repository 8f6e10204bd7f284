"""Every feature, in the order /trogiup lists their commands; importing this fills the role
table and the dialogs' step tables (each checked as it is added).

A feature is one module of `handlers` that ends in `FEATURE = Feature(...)`: adding one is
adding its name here (and its texts to the catalogs).
"""

from __future__ import annotations

from importlib import import_module

from handlers.feature import Feature
from handlers.roles import TABLE
from handlers.steps import register

FEATURE_MODULES = (
    "registration",
    "report",
    "views",
    "extension",
    "committee",
    "admin_export",
    "approvals",
    "admin_invite",
    "admin_units",
    "admin_revoke",
    "admin_import",
    "outbox_view",
    "broadcast",
    "weekly_digest",
    "schedule_view",
    "language",
    "help",
)


def _install(names: tuple[str, ...]) -> tuple[Feature, ...]:
    features = tuple(import_module(f"handlers.{name}").FEATURE for name in names)
    for feature in features:
        TABLE.add(feature)
        for name, dialog in feature.dialogs.items():
            register(name, dialog)
    return features


FEATURES = _install(FEATURE_MODULES)
