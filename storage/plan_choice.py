"""Which plan an import goes to: the one named, or the only one, or a new one.

`--plan NAME` names a plan by its name or short name (folded); a name no plan has creates the
plan. Without it, an empty database gets a plan named from the appendix's title rows (or the
file's name), a database with one plan imports into it, and one with several asks which.
The decision read from the title rows is stored when the plan is created, or when the plan has
none yet; a different one is reported, never written over the plan's, and without `--plan` it
stops the import: a file citing another document is most likely another plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from storage.import_steps import drop_abandoned
from storage.models import Plan
from storage.plan_title import SHORT_MAX, PlanTitle, key, name_from_file, period_of, short_name
from storage.repositories import plans as plan_store
from storage.repositories.plans import PlanInfo

# A name this short is a short name already ("KH 2024"): chat shows it as it is.
SHORT_ENOUGH = 20


class PlanNeeded(Exception):
    """The database follows several plans and the import named none of them."""

    def __init__(self, plans: list[Plan]) -> None:
        super().__init__(f"{len(plans)} plans, none named")
        self.plans = [PlanInfo.of(plan) for plan in plans]


class OtherDecision(Exception):
    """No plan was named, and the file's title rows cite another document than the only
    plan's: most likely another plan, which must not overwrite this one's tasks."""

    def __init__(self, plan: Plan, decision: str) -> None:
        super().__init__(f"file cites {decision!r}, plan {plan.id} has {plan.decision!r}")
        self.plan, self.decision = PlanInfo.of(plan), decision


@dataclass(frozen=True)
class PlanOutcome:
    """What an import did to its plan, in plain values (readable after the session ends)."""

    name: str = ""
    short_name: str = ""
    decision: str = ""
    created: bool = False
    other_decision: str = ""
    decision_added: bool = False
    short_ignored: str = ""


@dataclass
class Chosen:
    plan: Plan
    created: bool = False
    # The decision the title rows state, when it differs from the plan's and was kept apart.
    other_decision: str = ""
    decision_added: bool = False
    # A --short that differs from an existing plan's short name (which stays).
    short_ignored: str = ""

    def outcome(self) -> PlanOutcome:
        plan = self.plan
        return PlanOutcome(
            plan.name,
            plan.short_name,
            plan.decision,
            self.created,
            self.other_decision,
            self.decision_added,
            self.short_ignored,
        )


async def choose_plan(
    session: AsyncSession,
    wanted: str | None,
    short: str | None,
    title: PlanTitle,
    path: Path,
    now: datetime,
    actor: str,
) -> Chosen:
    """The plan to import into, created when it is new (added to the session: written at its
    next flush). PlanNeeded when several plans exist and `wanted` is None; OtherDecision when
    one exists, `wanted` is None and the file cites another document; PlanNameTaken when a new
    plan's name or short name is another plan's."""
    await drop_abandoned(session, now, actor)
    # A plan another import is writing is nobody's to choose, but its names are taken.
    every = await plan_store.every(session, importing=True)
    plans = [plan for plan in every if not plan.importing]
    found: Plan | None = None
    if wanted and wanted.strip():
        found = plan_store.match(plans, wanted)
        if found is None:
            return _create(session, every, wanted.strip(), short, title, now)
    elif not plans:
        name = title.name or name_from_file(path)
        return _create(session, every, name, short, title, now)
    elif len(plans) == 1:
        found = plans[0]
        if title.decision and found.decision and title.decision != found.decision:
            raise OtherDecision(found, title.decision)
    else:
        raise PlanNeeded(plans)
    return _update(session, found, short, title, now, actor)


def _create(
    session: AsyncSession,
    plans: list[Plan],
    name: str,
    short: str | None,
    title: PlanTitle,
    now: datetime,
) -> Chosen:
    taken = [text for plan in plans for text in (plan.name, plan.short_name)]
    if short and short.strip():
        short = short.strip()[:SHORT_MAX]
    elif len(name) <= SHORT_ENOUGH and key(name) not in {key(text) for text in taken}:
        short = name
    else:
        short = short_name([name, title.name], title.decision, taken)
    plan_store.check_free(plans, name, short)
    plan = plan_store.create(
        session,
        name=name,
        short=short,
        decision=title.decision,
        period=period_of(name) or title.period,
        now=now,
    )
    return Chosen(plan, created=True)


def _update(
    session: AsyncSession,
    plan: Plan,
    short: str | None,
    title: PlanTitle,
    now: datetime,
    actor: str,
) -> Chosen:
    chosen = Chosen(plan)
    if title.decision and title.decision != plan.decision:
        if plan.decision:
            chosen.other_decision = title.decision
        else:
            plan_store.set_decision(session, plan, title.decision, now, actor)
            chosen.decision_added = True
    if short and key(short) != key(plan.short_name):
        chosen.short_ignored = short.strip()
    return chosen
