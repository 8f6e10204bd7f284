"""/baocao: task → status → percent → results → difficulties → proposals → files → send.

The lead unit's report sets the task's status and percent. A cooperating unit files a
contribution instead: task → results → difficulties → proposals → files → send, with no status
and no percent, and the task's figures stay as its lead unit reported them.
Each step is an `ask` and a `take`; the table at the bottom is the whole dialog.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePath
from typing import Any

from handlers import status_words, task_picker
from handlers.context import Ctx
from handlers.events import IncomingFile, Option, Reply
from handlers.feature import UNIT_ROLES, Command, Feature, Where, allow
from handlers.i18n import number
from handlers.options import CONFIRM, EDIT, FILES_DONE, PERCENT, SKIP, STATUS
from handlers.steps import Answer, Finish, Refusal, Step
from handlers.wording import deadline_words, reported_label, short
from scheduler import digest_correction
from storage.models import EvidenceFile, ReportKind, Task, TaskStatus
from storage.repositories import evidence
from storage.repositories import reports as report_store
from storage.repositories.tasks import Assignment
from storage.status import completion_status, is_overdue

DIALOG = "report"
log = logging.getLogger(__name__)
CHOSEN_STATUSES = STATUS.words
PERCENTS = (0, 25, 50, 75, 100)
ALLOWED_FILES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
MAX_TEXT = 4000
EDITABLE = EDIT.words
# What a contribution has: no status, no percent (the lead unit's report sets those).
CONTRIBUTION_EDITABLE = ("task", "results", "difficulties", "proposals", "files")
# ASCII digits only: "５０" or "²" is not a number a person meant, and int() refuses some.
_PERCENT = re.compile(r"\s*(?P<number>-?[0-9]+(?P<fraction>[.,][0-9]+)?)\s*%?\s*")


async def begin(ctx: Ctx) -> list[Reply]:
    """Starts a report; `/baocao VII.3` goes straight to that task's status."""
    return await task_picker.begin(ctx, DIALOG, chosen)


async def chosen(ctx: Ctx, picked: Assignment) -> str:
    """A lead unit reports the status next; a cooperating unit goes on to its results."""
    kind = ReportKind.REPORT if picked.leads else ReportKind.CONTRIBUTION
    ctx.put(kind=kind.value)
    return "status" if picked.leads else "results"


def _contribution(ctx: Ctx) -> bool:
    return ctx.data.get("kind") == ReportKind.CONTRIBUTION


_task = task_picker.current_or_finish


def _status_words(ctx: Ctx, task: Task, choice: str) -> str:
    if choice == "done":
        done = completion_status(task.due_date, task.ongoing, ctx.today)
        return ctx.t(f"status_{done.value}")
    if choice == "in_progress":
        return reported_label(ctx, task, TaskStatus.IN_PROGRESS)
    return ctx.t(f"status_{choice}")


async def ask_status(ctx: Ctx) -> Reply | Finish:
    task = await _task(ctx)
    if isinstance(task, Finish):
        return task
    options = tuple(Option(STATUS.id(c), _status_words(ctx, task, c)) for c in CHOSEN_STATUSES)
    text = ctx.t(
        "report_ask_status",
        code=task_picker.code(ctx, task),
        title=short(task.title, 160),
        deadline=deadline_words(ctx, task),
    )
    return Reply(text, options)


async def take_status(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    task = await _task(ctx)
    if isinstance(task, Finish):
        return task
    choice = STATUS.value(answer.choice) or status_words.choice_for(answer.text, CHOSEN_STATUSES)
    if choice is None:
        return Refusal(ctx.t("status_not_understood", text=short(answer.text, 30)))
    if choice == "done":
        ctx.put(status=completion_status(task.due_date, task.ongoing, ctx.today).value, percent=100)
        return "results"
    in_progress = (
        TaskStatus.OVERDUE
        if is_overdue(task.due_date, task.ongoing, ctx.today)
        else TaskStatus.IN_PROGRESS
    )
    ctx.put(status=in_progress.value if choice == "in_progress" else choice)
    return "percent"


async def ask_percent(ctx: Ctx) -> Reply:
    options = tuple(Option(PERCENT.id(value), f"{value}%") for value in PERCENTS)
    return Reply(ctx.t("report_ask_percent"), options, columns=5)


def parse_percent(ctx: Ctx, answer: Answer) -> int | Refusal:
    """A whole number 0–100 from a button (already checked by the option grammar) or typed
    text ("50", "50%", " 50 "), typed under the same range rule as the buttons."""
    pressed = PERCENT.value(answer.choice)
    if pressed is not None:
        return pressed
    match = _PERCENT.fullmatch(answer.text)
    if match is None:
        return Refusal(ctx.t("percent_not_number", text=short(answer.text, 30)))
    if match.group("fraction"):
        return Refusal(ctx.t("percent_not_whole", text=match.group("number")))
    value = PERCENT.typed(match.group("number"))
    if value is None:
        return Refusal(ctx.t("percent_out_of_range", value=short(match.group("number"), 30)))
    return value


async def take_percent(ctx: Ctx, answer: Answer) -> str | Refusal:
    value = parse_percent(ctx, answer)
    if isinstance(value, Refusal):
        return value
    ctx.put(percent=value)
    return "results"


async def ask_results(ctx: Ctx) -> Reply:
    return Reply(ctx.t("report_ask_results"))


async def take_results(ctx: Ctx, answer: Answer) -> str | Refusal:
    if not answer.text:
        return Refusal(ctx.t("results_required"))
    if len(answer.text) > MAX_TEXT:
        return Refusal(ctx.t("text_too_long", limit=number(ctx.lang, MAX_TEXT)))
    ctx.put(results=answer.text)
    return "difficulties"


def _optional_text(name: str, next_step: str, back_to: str | None = None) -> Step:
    async def ask(ctx: Ctx) -> Reply:
        return Reply(ctx.t(f"report_ask_{name}"), (Option(SKIP.id(), ctx.t("skip")),))

    async def take(ctx: Ctx, answer: Answer) -> str | Refusal:
        if SKIP.picked(answer.choice):
            ctx.put(**{name: ""})
            return next_step
        if not answer.text:
            return Refusal(ctx.t("type_or_skip"))
        if len(answer.text) > MAX_TEXT:
            return Refusal(ctx.t("text_too_long", limit=number(ctx.lang, MAX_TEXT)))
        ctx.put(**{name: answer.text})
        return next_step

    return Step(ask, take, offers=(SKIP,), leads_to=(next_step,), back_to=back_to)


async def ask_files(ctx: Ctx) -> Reply:
    files = ctx.data.get("files") or []
    done = Option(FILES_DONE.id(), ctx.t("files_done") if files else ctx.t("skip"))
    text = ctx.t("report_ask_files")
    if files:
        names = ", ".join(item["file_name"] for item in files)
        text = ctx.t("files_received", count=len(files), names=names) + "\n" + text
    return Reply(text, (done,))


async def take_files(ctx: Ctx, answer: Answer) -> str | Refusal:
    # "Xong" typed while the button still says "Bỏ qua" (no file yet) means the same.
    typed = status_words.folded(answer.text)
    if FILES_DONE.picked(answer.choice) or (
        typed
        and typed in {status_words.folded(ctx.t("files_done")), status_words.folded(ctx.t("skip"))}
    ):
        return "confirm"
    if not answer.files:
        return Refusal(ctx.t("send_file_or_done"))
    kept = list(ctx.data.get("files") or [])
    notes: list[str] = []
    for incoming in answer.files:
        stored = await _store_file(ctx, incoming)
        if isinstance(stored, Refusal):
            return stored
        same = next((item for item in kept if item["sha256"] == stored["sha256"]), None)
        if same is None:
            kept.append(stored)
        else:  # the same content twice is one piece of evidence: kept once, and said so
            notes.append(ctx.t("file_duplicate", name=stored["file_name"], first=same["file_name"]))
    ctx.put(files=kept)
    return Refusal("\n".join(notes)) if notes else "files"


async def _store_file(ctx: Ctx, incoming: IncomingFile) -> dict[str, Any] | Refusal:
    suffix = PurePath(incoming.file_name or "").suffix.lower()
    if suffix not in ALLOWED_FILES:
        return Refusal(ctx.t("file_type_refused", name=incoming.file_name or "?"))
    limit_mb = number(ctx.lang, ctx.config.max_file_bytes // (1024 * 1024))
    if incoming.size is not None and incoming.size > ctx.config.max_file_bytes:
        return Refusal(ctx.t("file_too_big", name=incoming.file_name, limit=limit_mb))
    try:
        content = await incoming.read()
    except Exception:  # the channel's download failed; the person can simply send it again
        log.warning(
            "could not download %r from %s", incoming.file_name, ctx.event.channel, exc_info=True
        )
        return Refusal(ctx.t("file_download_failed", name=incoming.file_name))
    if len(content) > ctx.config.max_file_bytes:
        return Refusal(ctx.t("file_too_big", name=incoming.file_name, limit=limit_mb))
    mime = incoming.mime_type or ALLOWED_FILES[suffix]
    stored = evidence.store(ctx.config.data_dir, content, incoming.file_name, mime, ctx.now)
    return {
        "sha256": stored.sha256,
        "file_name": stored.file_name,
        "mime_type": mime,
        "size": stored.size,
        "storage_path": stored.storage_path,
    }


async def ask_confirm(ctx: Ctx) -> Reply | Finish:
    task = await _task(ctx)
    if isinstance(task, Finish):
        return task
    data = ctx.data
    none = ctx.t("none")
    texts = {
        "code": task_picker.code(ctx, task),
        "title": short(task.title, 160),
        "results": data.get("results") or none,
        "difficulties": data.get("difficulties") or none,
        "proposals": data.get("proposals") or none,
        "files": ", ".join(f["file_name"] for f in data.get("files") or []) or none,
    }
    if _contribution(ctx):
        summary = ctx.t("contribution_summary", **texts)
    else:
        status = ctx.t(f"status_{data['status']}")
        summary = ctx.t("report_summary", status=status, percent=data["percent"], **texts)
    options = (
        Option(CONFIRM.id("send"), ctx.t("send")),
        Option(CONFIRM.id("edit"), ctx.t("edit")),
        Option(CONFIRM.id("cancel"), ctx.t("cancel")),
    )
    return Reply(summary, options, columns=3)


async def take_confirm(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    confirmed = CONFIRM.value(answer.choice)
    if confirmed == "edit":
        return "edit"
    if confirmed == "cancel":
        return Finish([Reply(ctx.t("report_cancelled"), replace_prompt=True)])
    if confirmed != "send":
        return Refusal(ctx.t("choose_option"))
    picked = await task_picker.current_assignment(ctx)
    if picked is None:
        return Finish([Reply(ctx.t("task_not_yours"))])
    if not picked.leads and not _contribution(ctx):
        # The plan changed under the dialog: the unit no longer leads this task.
        return Finish([Reply(ctx.t("report_not_lead", code=task_picker.code(ctx, picked.task)))])
    return Finish([await _send(ctx, picked.task)])


def _submission(ctx: Ctx) -> report_store.Submission:
    data = ctx.data
    texts = {
        "results": data.get("results", ""),
        "difficulties": data.get("difficulties", ""),
        "proposals": data.get("proposals", ""),
    }
    if _contribution(ctx):
        return report_store.Submission(ReportKind.CONTRIBUTION, **texts)
    return report_store.Submission(
        ReportKind.REPORT, status=data["status"], percent=int(data["percent"]), **texts
    )


async def _send(ctx: Ctx, task: Task) -> Reply:
    assert ctx.person is not None
    files = [
        EvidenceFile(
            sha256=f["sha256"],
            file_name=f["file_name"],
            mime_type=f["mime_type"],
            size=f["size"],
            storage_path=f["storage_path"],
            created_at=ctx.now,
        )
        for f in ctx.data.get("files") or []
    ]
    submission = _submission(ctx)
    report = await report_store.add(
        ctx.session,
        task=task,
        person=ctx.person,
        submission=submission,
        files=files,
        channel=ctx.event.channel,
        now=ctx.now,
    )
    if submission.kind == ReportKind.REPORT:  # a digest already sent may have listed its unit
        await digest_correction.report_filed(ctx.session, task.id, ctx.now, ctx.config)
    if submission.kind == ReportKind.CONTRIBUTION:
        text = ctx.t("contribution_sent", id=report.id, code=task_picker.code(ctx, task))
    else:
        status = ctx.t(f"status_{report.status}")
        text = ctx.t(
            "report_sent",
            id=report.id,
            code=task_picker.code(ctx, task),
            status=status,
            percent=report.percent,
        )
    return Reply(text, replace_prompt=True)


def _editable(ctx: Ctx) -> tuple[str, ...]:
    return CONTRIBUTION_EDITABLE if _contribution(ctx) else EDITABLE


async def ask_edit(ctx: Ctx) -> Reply:
    options = tuple(Option(EDIT.id(step), ctx.t(f"edit_{step}")) for step in _editable(ctx))
    return Reply(ctx.t("report_ask_edit"), options, columns=2)


async def take_edit(ctx: Ctx, answer: Answer) -> str | Refusal:
    step = EDIT.value(answer.choice)
    if step is None:
        return Refusal(ctx.t("choose_option"))
    if step not in _editable(ctx):  # "status" for a contribution: never offered here
        return Refusal(ctx.t("option_not_valid"))
    ctx.put(editing=True)
    if (
        step == "percent"
        and ctx.data.get("percent") == 100
        and str(ctx.data.get("status", "")).startswith("done")
    ):
        return "status"  # a completed task is at 100%; its status decides the percent
    return step


FEATURE = Feature(
    "report",
    commands=(
        Command(
            "baocao",
            begin,
            allow(UNIT_ROLES, (Where.PRIVATE,)),
            aliases=("report",),
            starts_dialog=True,
            needs_unit=True,
        ),
    ),
    dialogs={
        DIALOG: {
            "task": task_picker.task_step(
                "report_choose_task", chosen, leads_to=("status", "results")
            ),
            "status": Step(
                ask_status, take_status, offers=(STATUS,), leads_to=("percent", "results")
            ),
            "percent": Step(
                ask_percent, take_percent, offers=(PERCENT,), numbered=False, leads_to=("results",)
            ),
            "results": Step(
                ask_results, take_results, leads_to=("difficulties",), back_to="confirm"
            ),
            "difficulties": _optional_text("difficulties", "proposals", back_to="confirm"),
            "proposals": _optional_text("proposals", "files", back_to="confirm"),
            "files": Step(ask_files, take_files, offers=(FILES_DONE,), leads_to=("confirm",)),
            "confirm": Step(ask_confirm, take_confirm, offers=(CONFIRM,), leads_to=("edit",)),
            "edit": Step(ask_edit, take_edit, offers=(EDIT,), leads_to=EDITABLE, picks_edit=True),
        },
    },
)
