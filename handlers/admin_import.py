"""/nhap: an admin sends a plan's appendix (.xlsx) in the chat and imports it.

file → plan (a followed plan, or a new one: name → short name) → checking (the dry run) →
confirm (→ replace, asked a second time) → the import runs in the background, and the admin is
told the result.

The file is kept under DATA_DIR/uploads/ with a random name once checked (an .xlsx: a zip
holding a workbook, whole, within the size limit; storage.uploads) and is known to the dialog
by that name and its SHA-256, checked again before the import reads it. Nothing changes before
"Nhập": the dry run shows the plan, the tasks new, changed and gone, the units the catalog lacks
and the rows that cannot be imported, as `tiendo import --dry-run` does. New units are added
only through their own option ("Nhập và thêm N đơn vị mới"); a file leaving out more than half
of the plan's active tasks is asked about a second time. The file is removed when the dialog
ends; one left behind by /huy or another command is swept later (storage.uploads).

The dry run and the import start once their step has committed (Ctx.after_commit) and run in a
process of their own (storage.import_job), so the step answers at once and nobody's turn waits
for them (a Telegram poll handles its batch of chats together). The dry run's summary comes
back into this dialog, sent to this chat through the outbox; the import's result is told to the
admin (handlers.notices) and audited as "import.from_chat". Where the messenger does not pass a
file on, the bot says so and points to `tiendo import`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers import import_jobs, import_texts, notices
from handlers.context import Ctx, HandlerConfig
from handlers.events import Incoming, IncomingFile, Option, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import number
from handlers.options import IMPORT, PLAN, SKIP
from handlers.permissions import actor
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage import import_job, uploads
from storage.db import session_factory
from storage.import_job import ImportOutcome, ImportRequest, Status
from storage.models import Person, Plan
from storage.plan_title import SHORT_MAX
from storage.repositories import audit, conversations, outbox
from storage.repositories import plans as plan_store
from storage.repositories.plans import PlanNameTaken

DIALOG = "admin_import"
log = logging.getLogger(__name__)
UPLOAD, PLAN_ID, PLAN_NAME, PLAN_SHORT = "upload", "plan_id", "plan_name", "plan_short"
NEW_NAME, JOB, SUMMARY, FOUND, ADD_UNITS = "new_name", "job", "summary", "found", "add_units"
NAME_LENGTH = (3, 300)
MB = 1024 * 1024


async def begin(ctx: Ctx) -> list[Reply]:
    """Asks for the file, or takes the one sent with the command as its caption."""
    if ctx.state.dialog == DIALOG:
        _forget_upload(ctx)  # /nhap again: the file of the dialog left is of no use now
    ctx.clear()
    await _sweep(ctx.session, ctx.config.data_dir)
    if not ctx.event.files:
        return await enter(ctx, DIALOG, "file")
    taken = await _receive(ctx, ctx.event.files[0])
    if isinstance(taken, Refusal):
        return [Reply(taken.text), *await enter(ctx, DIALOG, "file")]
    return await enter(ctx, DIALOG, taken)


# ---- the file ----------------------------------------------------------------------------


async def ask_file(ctx: Ctx) -> Reply:
    return Reply(ctx.t("import_ask_file", limit=number(ctx.lang, ctx.config.max_file_bytes // MB)))


async def take_file(ctx: Ctx, answer: Answer) -> str | Refusal:
    if not answer.files:
        return Refusal(ctx.t("import_no_file"))
    return await _receive(ctx, answer.files[0])


async def _receive(ctx: Ctx, incoming: IncomingFile) -> str | Refusal:
    """Keep the file when it is an .xlsx workbook within the limit; the reason otherwise."""
    name = short(incoming.file_name or "?", 80)
    limit = ctx.config.max_file_bytes
    too_big = Refusal(ctx.t("import_file_too_big", name=name, limit=number(ctx.lang, limit // MB)))
    if uploads.refused_name(incoming.file_name, incoming.mime_type):
        return Refusal(ctx.t("import_file_type", name=name))
    if incoming.size is not None and incoming.size > limit:
        return too_big
    try:
        content = await incoming.read()
    except Exception:  # the messenger's download failed (or never happened)
        log.warning("could not download %r from %s", name, ctx.event.channel, exc_info=True)
        return Refusal(ctx.t("import_file_download_failed", name=name))
    refused = await asyncio.to_thread(uploads.refused_content, content, limit)
    if refused is uploads.Refused.TOO_BIG:
        return too_big
    if refused is not None:
        return Refusal(ctx.t("import_file_corrupt", name=name))
    kept = await asyncio.to_thread(uploads.keep, ctx.config.data_dir, content)
    ctx.put(**{UPLOAD: {"name": kept.name, "sha256": kept.sha256, "file_name": name}})
    return "plan"


# ---- the plan ----------------------------------------------------------------------------


async def ask_plan(ctx: Ctx) -> Reply:
    plans = [plan for plan in await plan_store.every(ctx.session) if plan.followed]
    options = [Option(PLAN.id(plan.id), _plan_label(plan)) for plan in plans]
    options.append(Option(IMPORT.id("new_plan"), ctx.t("import_new_plan")))
    return Reply(ctx.t("import_ask_plan", file=_file_name(ctx)), tuple(options))


def _plan_label(plan: Plan) -> str:
    same = plan.name == plan.short_name
    return plan.short_name if same else short(f"{plan.short_name} — {plan.name}", 60)


async def take_plan(ctx: Ctx, answer: Answer) -> str | Refusal:
    if IMPORT.value(answer.choice) == "new_plan":
        return "name"
    plan_id = PLAN.value(answer.choice)
    if plan_id is None:
        return Refusal(ctx.t("choose_option"))
    plan = await ctx.session.get(Plan, plan_id)
    if plan is None or not plan.followed:  # closed meanwhile, or an id never offered
        return Refusal(ctx.t("option_not_valid"))
    ctx.put(**{PLAN_ID: plan.id})
    return _check(ctx, plan.name, None)


async def ask_name(ctx: Ctx) -> Reply:
    return Reply(ctx.t("import_ask_name"))


async def take_name(ctx: Ctx, answer: Answer) -> str | Refusal:
    name = " ".join(answer.text.split())
    low, high = NAME_LENGTH
    if not low <= len(name) <= high:
        return Refusal(ctx.t("import_name_length", low=low, high=high))
    existing = plan_store.match(await plan_store.every(ctx.session), name)
    if existing is not None:
        return Refusal(ctx.t("import_name_exists", name=existing.name, short=existing.short_name))
    ctx.put(**{NEW_NAME: name, PLAN_ID: None})
    return "short"


async def ask_short(ctx: Ctx) -> Reply:
    skip = Option(SKIP.id(), ctx.t("import_short_auto"))
    return Reply(ctx.t("import_ask_short", name=ctx.data[NEW_NAME], limit=SHORT_MAX), (skip,))


async def take_short(ctx: Ctx, answer: Answer) -> str | Refusal:
    name = str(ctx.data[NEW_NAME])
    short_name = None if SKIP.picked(answer.choice) else " ".join(answer.text.split())
    if short_name is not None and not 1 <= len(short_name) <= SHORT_MAX:
        return Refusal(ctx.t("import_short_length", limit=SHORT_MAX))
    try:  # the name again too: another admin may have taken it meanwhile
        plan_store.check_free(await plan_store.every(ctx.session), name, short_name or name)
    except PlanNameTaken as taken:
        other = taken.other
        names = {"name": taken.name, "other": other.name, "other_short": other.short_name}
        return Refusal(ctx.t("import_name_taken", **names))
    return _check(ctx, name, short_name)


# ---- the dry run -------------------------------------------------------------------------


def _check(ctx: Ctx, name: str, short_name: str | None) -> str:
    """Start the dry run once this step has committed; its summary comes back as "confirm"."""
    token = secrets.token_hex(8)
    ctx.put(**{PLAN_NAME: name, PLAN_SHORT: short_name, JOB: token})
    pending = _pending(ctx, token, _request(ctx, dry_run=True))
    ctx.after_commit.append(import_jobs.starter(pending.upload, lambda: _dry_run(pending)))
    return "checking"


async def ask_checking(ctx: Ctx) -> Reply:
    return Reply(ctx.t("import_checking", file=_file_name(ctx), plan=ctx.data[PLAN_NAME]))


async def take_checking(ctx: Ctx, answer: Answer) -> str:
    return "checking"  # the summary comes by itself; meanwhile the same word again


async def _dry_run(pending: Pending) -> None:
    outcome = await import_job.off_loop(pending.request)

    async def resume(session: AsyncSession) -> bool:
        return await _resume(session, pending, outcome)

    if await import_jobs.in_transaction(pending.sessions, resume):
        uploads.remove(pending.config.data_dir, pending.upload)


async def _resume(session: AsyncSession, pending: Pending, outcome: ImportOutcome) -> bool:
    """Take the dialog on from "checking" with what the dry run found, and say it in the chat;
    True when the file is no longer needed."""
    event, now = pending.event, pending.now()
    state = await conversations.for_chat(
        session, event.channel, event.chat_id, event.sender_id, now
    )
    data = state.data or {}
    if state.dialog != DIALOG or state.step != "checking" or data.get(JOB) != pending.token:
        # The admin left (or restarted) the dialog meanwhile: this result is of no use.
        return (data.get(UPLOAD) or {}).get("name") != pending.upload
    person = await session.get(Person, pending.person_id)
    ctx = Ctx(session, pending.config, event, now, person, state)
    replies = await _found(ctx, outcome)
    await ctx.save()
    for index, reply in enumerate(replies):
        await outbox.enqueue(
            session,
            key=f"import:{pending.token}:{index}",
            channel=event.channel,
            chat_id=event.chat_id,
            kind=notices.KIND,
            payload=notices.payload(_in_language(reply, ctx.lang)),
            now=now,
        )
    return not ctx.in_dialog()


async def _found(ctx: Ctx, outcome: ImportOutcome) -> list[Reply]:
    file_name = _file_name(ctx)
    result = outcome.result
    if outcome.status is not Status.DONE or result is None:
        ctx.clear()
        return [Reply(import_texts.refusal(ctx.lang, outcome, file_name))]
    if not import_texts.worth_importing(result):
        ctx.clear()
        return [Reply(ctx.t("import_nothing", file=file_name, short=result.plan.short_name))]
    found = {
        "units": len(result.new_units),
        "replace": result.needs_replace,
        "missing": len(result.disappeared),
        "active": result.active_before,
        "short": result.plan.short_name,
    }
    ctx.put(**{SUMMARY: import_texts.summary(ctx.lang, result, file_name), FOUND: found})
    return await enter(ctx, DIALOG, "confirm")


# ---- Nhập, twice when it replaces the plan -------------------------------------------------


async def ask_confirm(ctx: Ctx) -> Reply:
    units = int(ctx.data[FOUND]["units"])
    if units:
        go = Option(IMPORT.id("go_units"), ctx.t("import_go_units", count=number(ctx.lang, units)))
        question = ctx.t("import_ask_units", count=number(ctx.lang, units))
    else:
        go, question = Option(IMPORT.id("go"), ctx.t("import_go")), ctx.t("import_ask_go")
    cancel = Option(IMPORT.id("cancel"), ctx.t("cancel"))
    return Reply(f"{ctx.data[SUMMARY]}\n\n{question}", (go, cancel))


async def take_confirm(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    word = IMPORT.value(answer.choice)
    if word == "cancel":
        return _cancel(ctx)
    if word not in ("go", "go_units"):
        return Refusal(ctx.t("choose_option"))
    add_units = bool(ctx.data[FOUND]["units"])
    if (word == "go_units") != add_units:  # the option this summary did not offer
        return Refusal(ctx.t("option_not_valid"))
    if ctx.data[FOUND]["replace"]:
        ctx.put(**{ADD_UNITS: add_units})
        return "replace"
    return await _start(ctx, add_units=add_units, replace=False)


async def ask_replace(ctx: Ctx) -> Reply:
    found = ctx.data[FOUND]
    text = ctx.t(
        "import_ask_replace",
        file=_file_name(ctx),
        short=found["short"],
        missing=number(ctx.lang, found["missing"]),
        active=number(ctx.lang, found["active"]),
    )
    options = (
        Option(IMPORT.id("replace"), ctx.t("import_replace")),
        Option(IMPORT.id("cancel"), ctx.t("cancel")),
    )
    return Reply(text, options)


async def take_replace(ctx: Ctx, answer: Answer) -> Refusal | Finish:
    word = IMPORT.value(answer.choice)
    if word == "cancel":
        return _cancel(ctx)
    if word != "replace":
        return Refusal(ctx.t("choose_option"))
    return await _start(ctx, add_units=bool(ctx.data.get(ADD_UNITS)), replace=True)


def _cancel(ctx: Ctx) -> Finish:
    _forget_upload(ctx)
    return Finish([Reply(ctx.t("import_cancelled"), replace_prompt=True)])


async def _start(ctx: Ctx, add_units: bool, replace: bool) -> Finish:
    """Check that the file and the plan are still the ones the dry run read, then start the
    import once this step has committed; the admin is told its result later."""
    upload = ctx.data[UPLOAD]
    path = uploads.path_of(ctx.config.data_dir, upload["name"])
    if await asyncio.to_thread(uploads.digest, path) != upload["sha256"]:
        _forget_upload(ctx)
        return Finish([Reply(ctx.t("import_file_changed"))])
    gone = await _plan_gone(ctx)
    if gone is not None:
        _forget_upload(ctx)
        return Finish([Reply(gone)])
    token = secrets.token_hex(8)
    request = _request(ctx, dry_run=False, add_units=add_units, replace=replace)
    pending = _pending(ctx, token, request)
    ctx.after_commit.append(import_jobs.starter(pending.upload, lambda: _import(pending)))
    text = ctx.t("import_started", file=_file_name(ctx), short=ctx.data[FOUND]["short"])
    return Finish([Reply(text, replace_prompt=True)])


async def _plan_gone(ctx: Ctx) -> str | None:
    """Why the plan chosen no longer takes this import (closed, or a new plan's name taken
    meanwhile), or None; the plan's current name is what the import will look for."""
    plan_id = ctx.data.get(PLAN_ID)
    if plan_id is None:
        taken = plan_store.match(await plan_store.every(ctx.session), ctx.data[PLAN_NAME])
        return None if taken is None else ctx.t("import_plan_gone")
    plan = await ctx.session.get(Plan, int(plan_id))
    if plan is None or not plan.followed:
        return ctx.t("import_plan_gone")
    ctx.put(**{PLAN_NAME: plan.name})  # renamed since the dry run: the same plan still
    return None


async def _import(pending: Pending) -> None:
    outcome = await import_job.off_loop(pending.request)

    async def tell(session: AsyncSession) -> None:
        await _tell(session, pending, outcome)

    try:
        await import_jobs.in_transaction(pending.sessions, tell)
    finally:
        uploads.remove(pending.config.data_dir, pending.upload)
        async with pending.sessions() as session:
            await _sweep(session, pending.config.data_dir)


async def _tell(session: AsyncSession, pending: Pending, outcome: ImportOutcome) -> None:
    """Audit the import ("import.from_chat") and tell the admin how it ended."""
    now, request, result = pending.now(), pending.request, outcome.result
    plan = await plan_store.find(session, result.plan.name if result else request.plan_name)
    audit.record(
        session,
        now=now,
        actor=request.actor,
        action="import.from_chat",
        entity="plan",
        entity_id=plan.id if plan else request.plan_name,
        details=_audited(pending, outcome),
    )
    person = await session.get(Person, pending.person_id)
    if person is None:
        return

    def say(lang: str) -> Reply:
        return Reply(import_texts.outcome_text(lang, outcome, pending.file_name))

    if not await notices.notify(session, person, f"import:{pending.token}", say, now):
        log.warning("import of %s ended (%s); admin %s cannot be told", *_who(pending, outcome))


def _audited(pending: Pending, outcome: ImportOutcome) -> dict[str, Any]:
    request, result = pending.request, outcome.result
    details: dict[str, Any] = {
        "outcome": outcome.status.value,
        "plan": result.plan.name if result else request.plan_name,
        "file_sha256": request.sha256,
        "file_name": pending.file_name,
        "add_units": request.add_units,
        "replace": request.replace,
    }
    if result is not None:
        details |= {
            "short_name": result.plan.short_name,
            "plan_created": result.plan.created,
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": result.unchanged,
            "disappeared": len(result.disappeared),
            "units_added": len(result.new_units) if result.units_added else 0,
        }
    return details


def _who(pending: Pending, outcome: ImportOutcome) -> tuple[str, str, int]:
    return pending.file_name, outcome.status.value, pending.person_id


# ---- what the jobs carry -----------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A job's request and what it needs to come back to the chat once it is done."""

    request: ImportRequest
    sessions: async_sessionmaker[AsyncSession]
    config: HandlerConfig
    event: Incoming
    person_id: int
    upload: str
    file_name: str
    token: str
    started: datetime
    started_clock: float

    def now(self) -> datetime:
        """The step's time (the dispatcher's clock) plus the time the job took."""
        return self.started + timedelta(seconds=time.monotonic() - self.started_clock)


def _pending(ctx: Ctx, token: str, request: ImportRequest) -> Pending:
    assert ctx.person is not None  # an admin: the role table let only them in
    return Pending(
        request,
        session_factory(_engine(ctx)),
        ctx.config,
        ctx.event,
        ctx.person.id,
        ctx.data[UPLOAD]["name"],
        _file_name(ctx),
        token,
        ctx.now,
        time.monotonic(),
    )


def _request(
    ctx: Ctx, *, dry_run: bool, add_units: bool = False, replace: bool = False
) -> ImportRequest:
    upload = ctx.data[UPLOAD]
    return ImportRequest(
        database_url=_engine(ctx).url.render_as_string(hide_password=False),
        path=str(uploads.path_of(ctx.config.data_dir, upload["name"])),
        sha256=upload["sha256"],
        plan_name=ctx.data[PLAN_NAME],
        plan_short=ctx.data.get(PLAN_SHORT),
        dry_run=dry_run,
        add_units=add_units,
        replace=replace,
        actor=actor(ctx),
        max_bytes=ctx.config.max_file_bytes,
    )


def _engine(ctx: Ctx) -> AsyncEngine:
    """The dialogs' engine: the jobs open their own on its database."""
    engine = ctx.session.bind
    assert isinstance(engine, AsyncEngine)
    return engine


def _file_name(ctx: Ctx) -> str:
    return str(ctx.data[UPLOAD]["file_name"])


def _in_language(reply: Reply, lang: str) -> Reply:
    extras = {**reply.extras, "lang": lang}
    return Reply(reply.text, reply.options, columns=reply.columns, extras=extras)


def _forget_upload(ctx: Ctx) -> None:
    """Remove the dialog's file once this step has committed (not before: a step that fails
    and is tried again still needs it)."""
    name = (ctx.data.get(UPLOAD) or {}).get("name")
    if name:
        folder = ctx.config.data_dir
        ctx.after_commit.append(lambda: _remove_unless_read(folder, name))


def _remove_unless_read(folder: Path, name: str) -> None:
    if name not in import_jobs.IN_USE:  # a dry run still reads it: it removes it when done
        uploads.remove(folder, name)


async def _sweep(session: AsyncSession, data_dir: Path) -> None:
    """Remove the uploads no /nhap dialog and no running job of this process refers to."""
    rows = await conversations.data_of_dialog(session, DIALOG)
    referred = {str(data.get(UPLOAD, {}).get("name")) for data in rows}
    await asyncio.to_thread(uploads.sweep, data_dir, referred | import_jobs.IN_USE)


FEATURE = Feature(
    "admin_import",
    commands=(
        Command(
            "nhap",
            begin,
            allow((Who.ADMIN,), (Where.PRIVATE,)),
            aliases=("import",),
            starts_dialog=True,
        ),
    ),
    dialogs={
        DIALOG: {
            "file": Step(ask_file, take_file, leads_to=("plan",), unsupported="import_no_document"),
            "plan": Step(ask_plan, take_plan, offers=(PLAN, IMPORT), leads_to=("name", "checking")),
            "name": Step(ask_name, take_name, leads_to=("short",)),
            "short": Step(
                ask_short, take_short, offers=(SKIP,), numbered=False, leads_to=("checking",)
            ),
            "checking": Step(ask_checking, take_checking),
            "confirm": Step(ask_confirm, take_confirm, offers=(IMPORT,), leads_to=("replace",)),
            "replace": Step(ask_replace, take_replace, offers=(IMPORT,)),
        },
    },
)
