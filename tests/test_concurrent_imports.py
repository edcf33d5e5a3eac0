"""Two imports touching the same persons at once: both land, in some order, and nothing is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tests.data.staff_files import make_id, simple_workbook
from store.schema import import_batch, person, person_tag, tag

ROOT = Path(__file__).resolve().parent.parent
SHARED = 40  # persons both files touch
HEADER = ["姓名", "身份证号", "统战对象类别", "所属区县", "工作单位", "职务", "标签"]


def ids(n: int, area: str) -> list[str]:
    return [make_id(area, f"1970{(i % 12) + 1:02d}{(i % 28) + 1:02d}", f"{i:03d}") for i in range(n)]


def build_files(tmp_path: Path) -> tuple[Path, Path]:
    shared = ids(SHARED, "330106")
    only_a = ids(10, "330102")
    only_b = ids(10, "330108")
    rows_a = [[f"共{i}", pid, "无党派", "西湖区", f"甲单位{i}", "", "青年"] for i, pid in enumerate(shared)]
    rows_a += [[f"甲{i}", pid, "宗教界", "上城区", "甲单位", "", ""] for i, pid in enumerate(only_a)]
    rows_b = [[f"共{i}", pid, "无党派", "西湖区", "", f"乙职务{i}", "海归"] for i, pid in enumerate(shared)]
    rows_b += [[f"乙{i}", pid, "宗教界", "滨江区", "乙单位", "", ""] for i, pid in enumerate(only_b)]
    a = simple_workbook(tmp_path / "a.xlsx", HEADER, rows_a, text_columns=("B",))
    b = simple_workbook(tmp_path / "b.xlsx", HEADER, rows_b, text_columns=("B",))
    return a, b


def start_import(url: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loaders", "import", str(path), "--db", url, "--json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_imports_at_once_both_apply(engine, store_url, tmp_path):
    a, b = build_files(tmp_path)
    procs = [start_import(store_url, a), start_import(store_url, b)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(r["rejected"] == 0 for r in results), results
    # In whichever order they ran, the first inserted the shared persons and the second updated them.
    assert sorted(r["inserted"] for r in results) == [10, SHARED + 10]
    assert sorted(r["updated"] for r in results) == [0, SHARED]

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person)).scalar_one() == SHARED + 20
        shared = conn.execute(select(person.c.organization, person.c.position)
                              .where(person.c.name.like("共%"))).all()
        tags = conn.execute(select(func.count()).select_from(person_tag.join(tag))
                            .where(tag.c.name.in_(["青年", "海归"]))).scalar_one()
        batches = conn.execute(select(import_batch.c.status)).scalars().all()
    assert len(shared) == SHARED
    # Nothing lost: the organisation from one file and the position from the other both stand.
    assert all(org and org.startswith("甲单位") and pos and pos.startswith("乙职务") for org, pos in shared)
    assert tags == 2 * SHARED
    assert batches == ["done", "done"]
