"""The reminder and escalation rules as data, with the defaults of the office's practice.

The ladder of one task, counted in working days (a due date on a day off counts as the next
working day):

- 7, 3 and 1 working days before the due date: to the lead unit's officers;
- on the due day: to its officers and its head;
- overdue: every 2 working days (the 2nd, 4th, …) to the officers and the head;
- on the 5th working day overdue: the task is listed to the committee group(s), asking the
  unit for a written explanation ("báo cáo giải trình").

Periodic reports (monthly by default): on the 10th (the next working day when it is a day off)
every unit leading unfinished or ongoing tasks is called to report by the 15th; on the first
working day after the 15th, the units that have not reported since the 1st are listed to the
committee group(s).

Every number is a setting (bot.config: REMIND_BEFORE_DAYS, REMIND_OVERDUE_EVERY,
REMIND_ESCALATE_AFTER, REPORT_CALL_DAY, REPORT_DUE_DAY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Rule names: part of every outbox key, so never renamed.
BEFORE = "before"
DUE = "due"
OVERDUE = "overdue"
ESCALATE = "escalate"
CALL = "call"
MISSING = "missing"

# storage.models.Role's values, spelled here: bot.config reads this module, and should not
# pull in the database layer to check a setting.
OFFICERS = ("officer",)
OFFICERS_AND_HEAD = ("officer", "head")
# The longest lead a "before" reminder may have; a month of working days is plenty.
MAX_BEFORE_DAYS = 60
LAST_MONTH_DAY = 28  # a call on the 29th would skip February


class RuleSettings(Protocol):
    """What the rules read from bot.config.Settings (kept as a protocol: no import cycle)."""

    @property
    def remind_before_days(self) -> tuple[int, ...]: ...
    @property
    def remind_overdue_every(self) -> int: ...
    @property
    def remind_escalate_after(self) -> int: ...
    @property
    def report_call_day(self) -> int: ...
    @property
    def report_due_day(self) -> int: ...


@dataclass(frozen=True)
class Rung:
    """One step of a task's ladder: which rule, for whom, and the working days it counts
    (left before the due date, or overdue)."""

    rule: str
    roles: tuple[str, ...]
    days: int


@dataclass(frozen=True)
class ReminderRules:
    before_days: tuple[int, ...] = (7, 3, 1)
    overdue_every: int = 2
    escalate_after: int = 5
    report_call_day: int = 10
    report_due_day: int = 15

    def __post_init__(self) -> None:
        check(self)

    @classmethod
    def from_settings(cls, settings: RuleSettings) -> ReminderRules:
        return cls(
            before_days=tuple(settings.remind_before_days),
            overdue_every=settings.remind_overdue_every,
            escalate_after=settings.remind_escalate_after,
            report_call_day=settings.report_call_day,
            report_due_day=settings.report_due_day,
        )

    def rung(self, days_left: int) -> Rung | None:
        """The rung a task stands on with `days_left` working days to its due date (0: the due
        day, negative: overdue), or None when nothing is said that day."""
        if days_left > 0:
            return Rung(BEFORE, OFFICERS, days_left) if days_left in self.before_days else None
        if days_left == 0:
            return Rung(DUE, OFFICERS_AND_HEAD, 0)
        overdue = -days_left
        if overdue % self.overdue_every == 0:
            return Rung(OVERDUE, OFFICERS_AND_HEAD, overdue)
        return None

    def escalates(self, days_left: int) -> bool:
        """Whether the task is listed to the committee today: the day it reaches the set
        number of working days overdue (once, not every day after)."""
        return -days_left == self.escalate_after


def check(rules: ReminderRules) -> None:
    """ValueError (in Vietnamese, for the settings' message) unless the rules make sense."""
    if not rules.before_days or any(not 1 <= d <= MAX_BEFORE_DAYS for d in rules.before_days):
        raise ValueError(f"số ngày nhắc trước hạn phải từ 1 đến {MAX_BEFORE_DAYS}")
    if rules.overdue_every < 1 or rules.escalate_after < 1:
        raise ValueError("số ngày đôn đốc và số ngày báo cáo Ban Chỉ đạo phải từ 1 trở lên")
    days = (rules.report_call_day, rules.report_due_day)
    if not all(1 <= d <= LAST_MONTH_DAY for d in days) or days[0] > days[1]:
        raise ValueError(
            f"ngày đề nghị báo cáo và hạn báo cáo phải từ 1 đến {LAST_MONTH_DAY}, "
            "ngày đề nghị không sau hạn"
        )


def parse_days(text: str) -> tuple[int, ...]:
    """ "7,3,1" as (7, 3, 1), largest first; ValueError (in Vietnamese) for anything else."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items or not all(item.isascii() and item.isdigit() for item in items):
        raise ValueError(f"“{text}”: cần các số ngày cách nhau bởi dấu phẩy, ví dụ 7,3,1")
    days = tuple(sorted({int(item) for item in items}, reverse=True))
    if any(not 1 <= d <= MAX_BEFORE_DAYS for d in days):
        raise ValueError(f"“{text}”: mỗi số ngày phải từ 1 đến {MAX_BEFORE_DAYS}")
    return days
