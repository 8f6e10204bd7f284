"""No command loses a plan: the demo keeps to its own database, and a file that would leave
most of the tracked tasks out is taken for another plan unless `--replace` says otherwise."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import Task
from storage.samples.builder import AppendixGroup, AppendixTask, write_appendix
from storage.samples.make_sample import GROUPS
from tests.test_import import count, db_rows, quirky_plan

T = AppendixTask
SAMPLE_TASKS = sum(len(group.tasks) for group in GROUPS)


def export_bytes(run_cli, folder: Path, env: dict[str, str], name: str) -> bytes:  # type: ignore[no-untyped-def]
    path = folder / name
    result = run_cli("export", str(path), "--format", "json", env=env)
    assert result.code == 0, result.err
    return path.read_bytes()


def test_the_demo_beside_a_real_plan_leaves_it_untouched(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    assert (
        run_cli("import", str(write_appendix(tmp_path / "kh.xlsx", quirky_plan())), env=env).code
        == 0
    )
    before = export_bytes(run_cli, tmp_path, env, "before.json")

    first = run_cli("demo", "--no-chat", env=env)
    second = run_cli("demo", "--no-chat", env=env)

    assert first.code == 0, first.err
    assert f"{SAMPLE_TASKS} nhiệm vụ mới nhập" in first.out and "demo.db" in first.out
    assert second.code == 0 and "(0 nhiệm vụ mới nhập)" in second.out  # again is harmless
    assert (tmp_path / "data" / "demo.db").is_file()
    assert export_bytes(run_cli, tmp_path, env, "after.json") == before
    assert count(db_url, Task) == 11

    told = run_cli("demo", "--no-chat", "--database-url", db_url, env=env)

    assert told.code == 1 and "Traceback" not in told.err
    assert "đã có một kế hoạch khác" in told.err
    assert export_bytes(run_cli, tmp_path, env, "told.json") == before


def test_the_demo_into_an_empty_database_when_told_so(run_cli, sqlite_url: str) -> None:
    result = run_cli("demo", "--no-chat", "--database-url", sqlite_url)

    assert result.code == 0, result.err
    assert count(sqlite_url, Task) == SAMPLE_TASKS


def another_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [T(1, "Tuyên truyền về chuyển đổi số", "Sở TT&TT", "", "Quý IV/2022")],
        ),
        AppendixGroup(
            "III",
            "Phát triển nền tảng, hạ tầng số",
            [T(n, f"Hạ tầng số {n}", "Sở TT&TT", "", "Năm 2024") for n in range(1, 6)],
        ),
    ]


def active_codes(url: str) -> list[str]:
    return sorted(code for (code,) in db_rows(url, select(Task.code).where(Task.active)))


def test_a_file_leaving_most_tasks_out_needs_replace(tmp_path: Path, run_cli, db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    assert (
        run_cli("import", str(write_appendix(tmp_path / "kh.xlsx", quirky_plan())), env=env).code
        == 0
    )
    before = export_bytes(run_cli, tmp_path, env, "before.json")
    other = write_appendix(tmp_path / "khac.xlsx", another_plan())

    refused = run_cli("import", str(other), env=env)

    assert refused.code == 1 and "Traceback" not in refused.err
    assert "10/11 nhiệm vụ" in refused.err and "--replace" in refused.err
    assert export_bytes(run_cli, tmp_path, env, "refused.json") == before

    dry = run_cli("import", str(other), "--dry-run", env=env)

    assert dry.code == 0, dry.err
    assert "10/11 nhiệm vụ" in dry.out and "--replace" in dry.out
    assert export_bytes(run_cli, tmp_path, env, "dry.json") == before

    replaced = run_cli("import", str(other), "--replace", env=env)

    assert replaced.code == 0, replaced.err
    assert active_codes(db_url) == ["I.1", "III.1", "III.2", "III.3", "III.4", "III.5"]
    assert count(db_url, Task) == 16  # the old plan's tasks are kept, marked inactive


def test_a_file_leaving_out_fewer_than_half_is_an_update(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    assert run_cli("import", str(write_appendix(tmp_path / "v1.xlsx", quirky_plan()))).code == 0
    shorter = quirky_plan()
    del shorter[1].tasks[3:]  # five of eleven tasks go

    result = run_cli("import", str(write_appendix(tmp_path / "v2.xlsx", shorter)))

    assert result.code == 0, result.err
    assert len(active_codes(sqlite_url)) == 6
