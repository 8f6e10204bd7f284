"""/duyet: the extension requests waiting for a decision, each with Duyệt / Từ chối.

An admin decides. Approving moves the task's due date; refusing asks for a reason. Either is
audited, and the officer who asked is told (handlers.notices), with the reason when refused.
Every option carries its request's id and is checked again when pressed: the request must
still exist and still wait. Of two admins deciding one request at once the first wins and the
other is told it was already decided (storage.repositories.extensions.decide). A unit's head
sees the unit's waiting requests, read only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from handlers import task_picker
from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import day, moment, t
from handlers.notices import notify
from handlers.options import APPROVE, CONFIRM, GO_TO_PAGE, REJECT
from handlers.permissions import actor, who
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import deadline_words, short
from storage.models import ExtensionState
from storage.repositories import audit, extensions
from storage.repositories import tasks as task_store
from storage.repositories.extensions import RequestView

DIALOG = "approvals"
PAGE = 5  # requests per message: each brings two options and a few lines
HEAD_LIMIT = 20
NOTE, PAGE_KEY, REQUEST = "note", "page", "request_id"
MAX_REASON = 4000


async def begin(ctx: Ctx) -> list[Reply]:
    """An admin's list to decide from; a head's read-only list of the unit's requests."""
    if who(ctx) == Who.HEAD:
        return await unit_view(ctx)
    ctx.clear()
    return await enter(ctx, DIALOG, "list")


async def unit_view(ctx: Ctx) -> list[Reply]:
    """The requests the head's unit made that still wait, without options."""
    unit = ctx.person.unit if ctx.person else None
    if unit is None:
        return [Reply(ctx.t("no_unit"))]
    total = await extensions.count_pending(ctx.session, unit.id)
    if total == 0:
        return [Reply(ctx.t("approvals_unit_none", unit=unit.name))]
    found = await extensions.pending(ctx.session, unit.id, limit=HEAD_LIMIT)
    with_plan = await extensions.several_plans(ctx.session)
    lines = [ctx.t("approvals_unit_title", unit=unit.name, count=total)]
    lines += [entry(ctx, view, with_plan) for view in found]
    if total > len(found):
        lines.append(ctx.t("approvals_more", count=total - len(found)))
    lines.append(ctx.t("approvals_unit_read_only"))
    return [Reply("\n".join(lines))]


def entry(ctx: Ctx, view: RequestView, with_plan: bool) -> str:
    """One request as a decision needs it: task, unit, who asked and when, the deadline now,
    the date asked for and why."""
    request, task = view.request, view.task
    return ctx.t(
        "approvals_entry",
        id=request.id,
        code=task_picker.code(ctx, task, with_plan),
        title=short(task.title, 80),
        unit=view.unit.name,
        person=view.requester.full_name,
        at=moment(request.created_at, ctx.config.tz),
        deadline=deadline_words(ctx, task),
        date=day(request.proposed_date),
        reason=short(request.reason, 300),
    )


async def ask_list(ctx: Ctx) -> Reply | Finish:
    """A page of waiting requests, each with Duyệt / Từ chối; the last decision's outcome on
    top. With none left, the dialog ends."""
    note = ctx.data.get(NOTE)
    ctx.put(**{NOTE: None})
    said = [note] if note else []
    total = await extensions.count_pending(ctx.session)
    if total == 0:
        text = "\n\n".join([*said, ctx.t("approvals_none")])
        return Finish([Reply(text, replace_prompt=ctx.event.option_id is not None)])
    pages = (total + PAGE - 1) // PAGE
    page = min(int(ctx.data.get(PAGE_KEY) or 0), pages - 1)
    found = await extensions.pending(ctx.session, offset=page * PAGE, limit=PAGE)
    with_plan = await extensions.several_plans(ctx.session)
    lines = [*said, ctx.t("approvals_title", count=total)]
    if pages > 1:
        lines.append(ctx.t("page_of", page=page + 1, pages=pages))
    lines += [entry(ctx, view, with_plan) for view in found]
    options = [option for view in found for option in _decisions(ctx, view.request.id)]
    if page > 0:
        options.append(Option(GO_TO_PAGE.id(page - 1), ctx.t("page_previous")))
    if page < pages - 1:
        options.append(Option(GO_TO_PAGE.id(page + 1), ctx.t("page_next")))
    return Reply("\n".join(lines), tuple(options), columns=2)


def _decisions(ctx: Ctx, request_id: int) -> tuple[Option, Option]:
    return (
        Option(APPROVE.id(request_id), ctx.t("approvals_approve", id=request_id)),
        Option(REJECT.id(request_id), ctx.t("approvals_reject", id=request_id)),
    )


async def take_list(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    """Another page, an approval (decided at once), or a refusal (its reason asked next)."""
    denied = _not_admin(ctx)
    if denied is not None:
        return denied
    page = GO_TO_PAGE.value(answer.choice)
    if page is not None:
        ctx.put(**{PAGE_KEY: page})
        return "list"
    approved = APPROVE.value(answer.choice)
    if approved is not None:
        ctx.put(**{NOTE: await _approve(ctx, approved)})
        return "list"
    rejected = REJECT.value(answer.choice)
    if rejected is not None:
        problem = _undecidable(ctx, rejected, await extensions.find(ctx.session, rejected))
        if problem is not None:
            ctx.put(**{NOTE: problem})
            return "list"
        ctx.put(**{REQUEST: rejected})
        return "reason"
    return Refusal(ctx.t("choose_option"))


async def ask_reason(ctx: Ctx) -> Reply | Finish:
    found = await extensions.find(ctx.session, int(ctx.data[REQUEST]))
    if found is None:
        return Finish([Reply(ctx.t("approvals_gone", id=ctx.data[REQUEST]))])
    with_plan = await extensions.several_plans(ctx.session)
    text = ctx.t(
        "approvals_ask_reason",
        id=found.request.id,
        code=task_picker.code(ctx, found.task, with_plan),
        person=found.requester.full_name,
        unit=found.unit.name,
    )
    return Reply(text, (Option(CONFIRM.id("cancel"), ctx.t("approvals_back")),))


async def take_reason(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    """The reason, required; the refusal is then decided (or found decided meanwhile)."""
    denied = _not_admin(ctx)
    if denied is not None:
        return denied
    if CONFIRM.value(answer.choice) == "cancel":
        ctx.put(**{REQUEST: None})
        return "list"
    reason = answer.text.strip()[:MAX_REASON]
    if not reason:
        return Refusal(ctx.t("approvals_reason_required"))
    ctx.put(**{NOTE: await _reject(ctx, int(ctx.data[REQUEST]), reason), REQUEST: None})
    return "list"


def _not_admin(ctx: Ctx) -> Finish | None:
    """A person no longer admin (their role changed while the list was open) decides nothing."""
    if who(ctx) == Who.ADMIN:
        return None
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="command.refused",
        entity="command",
        entity_id="duyet",
        details={"reason": "permission_denied", "role": who(ctx).value, "in_dialog": True},
    )
    return Finish([Reply(ctx.t("permission_denied"))])


def _undecidable(ctx: Ctx, request_id: int, found: RequestView | None) -> str | None:
    """Why the request cannot be decided now (gone, or decided already), or None."""
    if found is None:
        return ctx.t("approvals_gone", id=request_id)
    request = found.request
    if request.state == ExtensionState.PENDING:
        return None
    decided = request.state in (ExtensionState.APPROVED, ExtensionState.REJECTED)
    if not decided or found.decider is None or request.decided_at is None:
        return ctx.t("approvals_closed", id=request_id)
    return ctx.t(
        f"approvals_already_{request.state}",
        id=request_id,
        person=found.decider.full_name,
        at=moment(request.decided_at, ctx.config.tz),
    )


async def _lost(ctx: Ctx, request_id: int) -> str:
    """Someone decided between our look and our update: what they decided."""
    found = await extensions.find(ctx.session, request_id)
    return _undecidable(ctx, request_id, found) or ctx.t("approvals_closed", id=request_id)


async def _claim(
    ctx: Ctx, request_id: int, state: ExtensionState, note: str = ""
) -> RequestView | str:
    """The request, now decided by this admin; or why it could not be (gone, decided)."""
    found = await extensions.find(ctx.session, request_id)
    problem = _undecidable(ctx, request_id, found)
    if problem is not None:
        return problem
    assert found is not None and ctx.person is not None
    by, at = ctx.person.id, ctx.now
    if not await extensions.decide(ctx.session, request_id, state=state, by=by, at=at, note=note):
        return await _lost(ctx, request_id)
    return found


async def _approve(ctx: Ctx, request_id: int) -> str:
    """Approves: the task's due date moves; audited; the officer is told."""
    found = await _claim(ctx, request_id, ExtensionState.APPROVED)
    if isinstance(found, str):
        return found
    task = found.task
    was = (task.due_date, task.deadline_text)
    changes = extensions.move_due_date(task, found.request.proposed_date, ctx.now)
    _audit(ctx, "extension.approved", found, changes)
    told = await _tell(ctx, found, ExtensionState.APPROVED, was=was)
    done = ctx.t(
        "approvals_approved",
        id=request_id,
        code=task_picker.code(ctx, task, await extensions.several_plans(ctx.session)),
        before=_deadline(ctx.lang, *was),
        after=day(found.request.proposed_date),
    )
    return f"{done}\n{told}"


async def _reject(ctx: Ctx, request_id: int, reason: str) -> str:
    """Refuses with `reason`: the due date stays; audited; the officer is told why."""
    found = await _claim(ctx, request_id, ExtensionState.REJECTED, reason)
    if isinstance(found, str):
        return found
    task = found.task
    kept = task.due_date.isoformat() if task.due_date else None
    _audit(ctx, "extension.rejected", found, {"due_date": [kept, kept]}, reason=reason)
    was = (task.due_date, task.deadline_text)
    told = await _tell(ctx, found, ExtensionState.REJECTED, was=was, reason=reason)
    code = task_picker.code(ctx, task, await extensions.several_plans(ctx.session))
    return ctx.t("approvals_rejected", id=request_id, code=code) + "\n" + told


def _audit(
    ctx: Ctx, action: str, found: RequestView, changes: Mapping[str, object], **more: object
) -> None:
    request, task = found.request, found.task
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action=action,
        entity="extension_request",
        entity_id=request.id,
        details={
            "task": task.code,
            "task_id": task.id,
            "plan": task.plan.short_name,
            "requested_by": found.requester.id,
            "proposed_date": request.proposed_date.isoformat(),
            **changes,
            **more,
        },
    )


def _deadline(lang: str, due: date | None, text: str) -> str:
    """A deadline as it stood: its date, or its words when it had none ("Thường xuyên")."""
    return day(due) if due is not None else (text or t(lang, "deadline_none"))


async def _tell(
    ctx: Ctx,
    found: RequestView,
    state: ExtensionState,
    was: tuple[date | None, str],
    reason: str = "",
) -> str:
    """The officer who asked is told the decision, in their language, on each messenger they
    can be reached on; what the admin is told about that."""
    officer, request, task = found.requester, found.request, found.task
    with_plan = await task_store.plan_count(ctx.session, found.unit) > 1
    code = task.code

    def say(lang: str) -> Reply:
        shown = t(lang, "plan_code", plan=task.plan.short_name, code=code) if with_plan else code
        return Reply(
            t(
                lang,
                f"extension_{state}_notice",
                id=request.id,
                code=shown,
                title=short(task.title, 80),
                date=day(request.proposed_date),
                before=_deadline(lang, *was),
                reason=reason,
            )
        )

    reached = 0
    if officer.revoked_at is None:
        reached = await notify(
            ctx.session, officer, f"extension:{request.id}:{state}", say, ctx.now
        )
    key = "approvals_told" if reached else "approvals_not_told"
    return ctx.t(key, person=officer.full_name)


FEATURE = Feature(
    "approvals",
    commands=(
        Command(
            "duyet",
            begin,
            allow((Who.HEAD, Who.ADMIN), (Where.PRIVATE,)),
            aliases=("approve",),
            starts_dialog=True,
        ),
    ),
    dialogs={
        DIALOG: {
            "list": Step(
                ask_list, take_list, offers=(APPROVE, REJECT, GO_TO_PAGE), leads_to=("reason",)
            ),
            "reason": Step(ask_reason, take_reason, offers=(CONFIRM,), leads_to=("list",)),
        },
    },
)
