"""Importing enterprise exports: messy workbooks, bad codes, duplicates, dry run, undo, links, the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from loaders import enterprises as imp
from loaders.cli import main as cli
from loaders.errors import UnreadableFile, UndoRefused
from loaders.undo import undo_batch
from store import changes as ch
from store.schema import audit_log, enterprise, enterprise_link, import_batch, risk_record, shareholder

A, B, C = "91350100M000100Y43", "91110000600037341L", "91440300708461136T"


def xlsx(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


MESSY = {
    "工商信息": [
        ["杭州市非公经济企业登记信息（导出于 2026-11-30）"],
        [],
        ["序号", "企业名称", "统一社会信用代码", "法定代表人", "注册资本", "成立日期", "登记状态", "所属行业", "住所"],
        [1, "杭州甲科技有限责任公司", "９１３５０１００ｍ０００１００ｙ４３", "王老板", "1,000万元人民币", "2015-03-01", "存续",
         "软件和信息技术服务业", "杭州市西湖区文三路 1 号"],
        [2, "乙贸易(杭州)有限公司", B, "赵董", "100万美元", "2010年5月", "在业", "批发业", None],
        [3, "丙公司", "91110000600037341N", "钱总", "50", "2020-01-01", "存续", None, None],
        [4, None, None, None, None, None, None, None, None],
        ["填表说明：以上数据仅供内部使用"],
    ],
    "股东信息": [
        ["企业名称", "统一社会信用代码", "股东信息", None, None, None],
        [None, None, "股东名称", "股东类型", "认缴出资额(万元)", "持股比例"],
        ["杭州甲科技有限公司", A, "王老板", "自然人股东", 600, "60%"],
        ["杭州甲科技有限公司", A, "杭州丁投资合伙企业（有限合伙）", None, 400, 0.4],
        ["杭州甲科技有限公司", A, "王老板", "自然人股东", 650, "65%"],
        ["乙贸易（杭州）有限公司", None, "赵董", None, 100, "100"],
        ["不存在公司", None, "某人", None, 1, "1%"],
    ],
    "失信被执行人": [
        ["被执行人姓名/名称", "统一社会信用代码", "执行法院", "案号", "立案时间", "生效法律文书确定的义务", "被执行人的履行情况", "发布时间"],
        ["杭州甲科技有限公司", A, "杭州市西湖区人民法院", "（2025）浙0106执1234号", "2025-04-01", "支付货款 30 万元", "全部未履行",
         dt.datetime(2025, 6, 1)],
        ["乙贸易（杭州）有限公司", C, "杭州市中级人民法院", "（2025）浙01执9号", "2025-04-01", "=HYPERLINK(\"x\")", "全部未履行",
         "2025-06-02"],
    ],
}
MERGES = {"股东信息": ["A1:A2", "B1:B2", "C1:F1"]}


def run(engine, data: bytes, name: str = "企业数据.xlsx", **kw):
    return imp.apply_enterprise_import(engine, imp.prepare_enterprise_import(data, name), imported_by="clerk", **kw)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def person(engine, name, organization, category="private_economy", district="330106") -> int:
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        return cs.add_person(dict(name=name, category_code=category, district_code=district, organization=organization))


@pytest.mark.parametrize("scope, linked", [
    (None, {"西湖", "上城"}), (("330106",), {"西湖"}), (("330102",), {"上城"})], ids=["whole area", "西湖区", "上城区"])
def test_a_scoped_importer_suggests_links_only_inside_its_scope(engine, scope, linked):
    """Enterprises are the whole area's; the links an import suggests name persons, so only the importer's."""
    from store.scope import EVERYTHING, Scope

    ids = {"西湖": person(engine, "西湖人", "杭州甲科技有限公司"),
           "上城": person(engine, "上城人", "杭州甲科技有限公司", district="330102")}
    result = run(engine, xlsx(MESSY, MERGES), scope=Scope(districts=scope) if scope else EVERYTHING)
    with engine.connect() as conn:
        got = set(conn.execute(select(enterprise_link.c.person_id)).scalars())
    assert got == {ids[k] for k in linked} and result.links_suggested == len(linked)
    assert result.inserted == 6  # the enterprises themselves land whatever the importer's scope


def test_a_messy_workbook(engine):
    boss = person(engine, "王老板", "杭州甲科技有限公司")
    clerk = person(engine, "周会计", "杭州甲科技有限公司杭州分公司")
    person(engine, "吴某", "无关单位")
    result = run(engine, xlsx(MESSY, MERGES))
    # Enterprises: A and B land, the bad check character is rejected; notes and blank rows are not rows.
    # Shareholders: two for A (the duplicate wins, with a warning), one for B found by name; one unknown enterprise.
    # Risks: one for A; C is not stored.
    assert (result.rows_read, result.inserted, result.updated, result.rejected) == (10, 6, 1, 3)
    assert result.by_kind == {"enterprises": {"inserted": 2, "updated": 0, "unchanged": 0},
                              "shareholders": {"inserted": 3, "updated": 1, "unchanged": 0},
                              "risks": {"inserted": 1, "updated": 0, "unchanged": 0}}
    messages = {(e["sheet"], e["row"]): e["message"] for e in result.errors}
    assert "校验位不符" in messages[("工商信息", 6)]
    assert "不存在公司" in messages[("股东信息", 7)]
    assert "91440300708461136T" in messages[("失信被执行人", 3)]
    assert any("重复" in w["message"] and w["row"] == 5 for w in result.warning_list)
    with imp_engine_rows(engine) as got:
        firms, holders, risks = got
    assert [(f["credit_code"], f["name"], f["registered_capital"], f["capital_currency"], f["founded_on"]) for f in firms] == [
        (A, "杭州甲科技有限责任公司", 1000.0, "人民币", dt.date(2015, 3, 1)),
        (B, "乙贸易（杭州）有限公司", 100.0, "美元", dt.date(2010, 5, 1))]
    assert sorted((h["name"], h["kind"], h["subscribed_amount"], h["share"]) for h in holders) == [
        ("杭州丁投资合伙企业（有限合伙）", "enterprise", 400.0, 40.0), ("王老板", "person", 650.0, 65.0),
        ("赵董", "person", 100.0, 100.0)]
    assert [(r["kind"], r["case_number"], r["recorded_on"]) for r in risks] == [
        ("dishonest", "(2025)浙0106执1234号", dt.date(2025, 6, 1))]
    # Suggested links: the boss as legal representative (same name), the branch's clerk at lower confidence.
    with engine.connect() as conn:
        links = {r.person_id: (r.role, r.method, r.confidence, r.confirmed_at)
                 for r in conn.execute(select(enterprise_link))}
    assert links == {boss: ("legal_representative", "name", 0.9, None), clerk: ("employee", "name", 0.6, None)}
    assert result.links_suggested == 2


class imp_engine_rows:
    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        with self.engine.connect() as conn:
            return [[dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id))]
                    for t in (enterprise, shareholder, risk_record)]

    def __exit__(self, *exc):
        return False


def test_dry_run_counts_the_same_and_writes_nothing(engine):
    before = count(engine, audit_log)
    dry = run(engine, xlsx(MESSY, MERGES), dry_run=True)
    assert (dry.inserted, dry.updated, dry.rejected, dry.batch_id) == (6, 1, 3, None)
    assert [count(engine, t) for t in (enterprise, shareholder, risk_record, import_batch)] == [0, 0, 0, 0]
    assert count(engine, audit_log) == before
    real = run(engine, xlsx(MESSY, MERGES))
    assert (real.inserted, real.updated, real.rejected) == (dry.inserted, dry.updated, dry.rejected)


def test_the_same_file_twice_changes_nothing_and_undo_puts_everything_back(engine):
    first = run(engine, xlsx(MESSY, MERGES))
    second = run(engine, xlsx(MESSY, MERGES))
    # The in-file duplicate shareholder is applied again, then its later row again: one update each time.
    assert (second.inserted, second.rejected) == (0, 3)
    assert count(engine, enterprise) == 2 and count(engine, shareholder) == 3
    with pytest.raises(UndoRefused):
        undo_batch(engine, first.batch_id, "clerk")  # the second batch touched the same rows
    undo_batch(engine, second.batch_id, "clerk")
    undo_batch(engine, first.batch_id, "clerk")
    assert [count(engine, t) for t in (enterprise, shareholder, risk_record, enterprise_link)] == [0, 0, 0, 0]
    with engine.connect() as conn:
        assert conn.execute(select(import_batch.c.status).order_by(import_batch.c.id)).scalars().all() == [
            "undone", "undone"]
    with pytest.raises(UndoRefused):
        undo_batch(engine, first.batch_id, "clerk")


def test_one_file_per_kind_as_csv_with_the_kind_in_the_file_name(engine):
    run(engine, "企业名称,统一社会信用代码,法定代表人\n杭州甲科技有限公司,91350100M000100Y43,王老板\n".encode("utf-8-sig"),
        "工商.csv")
    result = run(engine, ("企业名称,统一社会信用代码,决定书文号,处罚内容,公示日期\n"
                          "杭州甲科技有限公司,91350100M000100Y43,杭市监罚〔2025〕12号,罚款2万元,2025/7/1\n").encode("gb18030"),
                 "行政处罚名单.csv")
    assert (result.inserted, result.rejected) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(select(risk_record.c.kind, risk_record.c.recorded_on)).all() == [
            ("penalty", dt.date(2025, 7, 1))]


def test_a_risk_sheet_whose_kind_cannot_be_told_is_rejected_with_the_reason(engine):
    run(engine, "企业名称,统一社会信用代码\n杭州甲科技有限公司,91350100M000100Y43\n".encode(), "a.csv")
    result = run(engine, "统一社会信用代码,案号,内容\n91350100M000100Y43,X1,某事\n".encode(), "b.csv")
    assert result.rejected == 1 and "风险类型" in result.errors[0]["message"]


def test_error_report_holds_the_rejected_rows_neutralised(engine, tmp_path):
    # A CSV: its formula-looking cells are text, as a hostile export would carry them.
    data = ("企业名称,统一社会信用代码,法定代表人\n=cmd|' /C calc'!A0,91350100M000100Y44,@SUM(1)\n"
            f"好公司,{A},王老板\n").encode()
    result = run(engine, data, "工商.csv")
    out = tmp_path / "rejected.xlsx"
    assert imp.write_enterprise_error_report(result, out) == 1
    ws = load_workbook(out).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["企业名称", "统一社会信用代码", "法定代表人", "错误原因"]
    assert rows[1][0].startswith("'=") and rows[1][2].startswith("'@") and "校验位不符" in rows[1][3]


@pytest.mark.parametrize("name, data", [
    ("x.xlsx", b"this is not a workbook"),
    ("x.csv", b""),
    ("x.pdf", b"%PDF-1.4"),
])
def test_hostile_or_wrong_files_are_refused_with_a_message(name, data):
    with pytest.raises(UnreadableFile) as err:
        imp.prepare_enterprise_import(data, name)
    assert " · " in err.value.message


@pytest.mark.parametrize("bomb", ["xlsx-XFD1048576-undeclared", "xlsx-XFD3000", "xls-DIMENSIONS", "xls-IV65536"])
def test_used_range_bombs_are_refused_as_the_person_import_refuses_them(bomb):
    """The enterprise import reads through the same child process and limits (loaders.workbook)."""
    from tests.test_import_hostile import BOMBS

    data, expected = BOMBS[bomb]
    with pytest.raises(UnreadableFile) as err:
        imp.prepare_enterprise_import(data, "工商.xls" if bomb.startswith("xls-") else "工商.xlsx")
    assert expected in err.value.message and " · " in err.value.message


def test_a_file_without_a_recognisable_header_is_refused():
    with pytest.raises(UnreadableFile) as err:
        imp.prepare_enterprise_import("甲,乙\n1,2\n".encode(), "x.csv")
    assert "企业名称" in err.value.message


@pytest.mark.parametrize("raw, expected", [
    ("1000万元人民币", (1000.0, "人民币", None)), ("100万美元", (100.0, "美元", None)), ("5000000元", (500.0, "人民币", None)),
    ("1亿元", (10000.0, "人民币", None)), (300, (300.0, None, None)), ("1,234.5万", (1234.5, "人民币", None)),
])
def test_amounts(raw, expected):
    assert imp.parse_amount(raw) == expected


@pytest.mark.parametrize("raw, expected", [("60%", 60.0), (0.4, 40.0), ("100", 100.0), ("12.5%", 12.5), ("150%", None),
                                           ("abc", None)])
def test_shares(raw, expected):
    assert imp.parse_share(raw)[0] == expected


def test_cli_imports_reports_json_and_undoes(store_url, tmp_path, capsys):
    path = tmp_path / "企业.xlsx"
    path.write_bytes(xlsx(MESSY, MERGES))
    assert cli(["enterprises", str(path), "--db", store_url, "--json", "--error-report", str(tmp_path / "r.xlsx")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert (line["inserted"], line["rejected"], line["dry_run"]) == (6, 3, False)
    assert (tmp_path / "r.xlsx").exists()
    assert cli(["undo", str(line["batch_id"]), "--db", store_url]) == 0
    assert "已撤销" in capsys.readouterr().out
    assert cli(["enterprises", str(tmp_path / "missing.xlsx"), "--db", store_url]) == 1


def test_the_cli_refuses_a_bomb_in_one_line_and_goes_on(store_url, tmp_path, capsys):
    from tests.test_import_hostile import BOMBS

    data, expected = BOMBS["xlsx-XFD1048576-undeclared"]
    (tmp_path / "bomb.xlsx").write_bytes(data)
    (tmp_path / "ok.xlsx").write_bytes(xlsx(MESSY, MERGES))
    status = cli(["enterprises", str(tmp_path / "bomb.xlsx"), str(tmp_path / "ok.xlsx"), "--db", store_url, "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and json.loads(out.strip().splitlines()[0])["inserted"] == 6
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err


PERSONS_WITH_CODES = (
    "姓名,身份证号,统战对象类别,所属区县,工作单位,职务,统一社会信用代码\n"
    "王老板,330106197503120016,非公有制经济人士,西湖区,杭州甲科技有限公司,董事长,９１３５０１００Ｍ０００１００Ｙ４３\n"
    "李经理,,非公有制经济人士,西湖区,乙贸易（杭州）有限公司,总经理,91110000600037341L\n"
    "钱总,330106198001010011,非公有制经济人士,西湖区,丙公司,总经理,91440300708461136T\n"
    "孙会计,330106198202020024,非公有制经济人士,西湖区,甲公司,会计,91350100M000100Y4X\n"
)


def _fix_ids(text: str) -> str:
    """The sample's ID numbers with their GB 11643 check digits."""
    from loaders.normalise import id_check_digit

    for first17 in ("33010619750312001", "33010619800101001", "33010619820202002"):
        text = text.replace(first17 + text[text.index(first17) + 17], first17 + id_check_digit(first17))
    return text


def test_the_person_import_links_by_credit_code(engine):
    from loaders.api import import_file

    run(engine, xlsx(MESSY, MERGES))
    data = _fix_ids(PERSONS_WITH_CODES).encode()
    dry = import_file(engine, data, "人员.csv", dry_run=True, imported_by="clerk")
    assert count(engine, enterprise_link) == 0 and any("关联企业 1 人" in n for n in dry.notices)
    result = import_file(engine, data, "人员.csv", imported_by="clerk")
    assert result.inserted == 3 and result.rejected == 1  # 李经理: nothing to identify him by
    assert any("关联企业 1 人" in n and "1 个代码" in n for n in result.notices)  # 钱总's enterprise is not stored
    assert any("校验位不符" in w["message"] and "未关联" in w["message"] for w in result.warning_list)
    with engine.connect() as conn:
        links = conn.execute(select(enterprise_link.c.role, enterprise_link.c.method, enterprise_link.c.confidence)).all()
    # The registry names 王老板 as legal representative: that role wins over 董事长.
    assert links == [("legal_representative", "credit_code", 1.0)]
    again = import_file(engine, data, "人员.csv", imported_by="clerk")
    assert not any("关联企业 1 人" in n for n in again.notices) and count(engine, enterprise_link) == 1
