"""CSV encodings (IMPORT.md "Files and sheets"): each file is decoded to the text it was written
from, or refused with a message naming its encoding; text from a wrong decoding is never kept."""

from __future__ import annotations

import pytest

from loaders.api import UnknownEncoding, prepare_import, read_sheets
from loaders.plan import F
from tests.data.staff_files import ID_LI, ID_WANG

SIMPLIFIED = [["序号", "姓名", "性别", "身份证号", "手机号码", "工作单位", "统战对象类别"],
              ["1", "王伟", "男", "330106197503120011", "13812345678", "杭州某某科技有限公司", "非公经济人士"],
              ["2", "李娜", "女", "33010219800101002X", "13912345678", "浙江大学", "党外知识分子"],
              ["3", "陈国华", "男", "330102196512300033", "13712345678", "九三学社杭州市委", "民主党派成员"]]
# As Hong Kong and Taiwan liaison systems export a roster: traditional characters.
TRADITIONAL = [["序號", "姓名", "性別", "身份證號", "手機號碼", "工作單位", "統戰對象類別"],
               ["1", "陳大文", "男", "810000197503120011", "91234567", "香港中華總商會", "港澳同胞"],
               ["2", "李美玲", "女", "830000198001010024", "0912345678", "台北市某某科技公司", "台灣同胞"],
               ["3", "黃志強", "男", "820000196512300033", "66123456", "澳門中華教育會", "港澳同胞"]]
# Characters only Big5-HKSCS has (嘅 㗎 邨): plain Big5 cannot hold this row.
HONG_KONG = TRADITIONAL + [["4", "何嘅㗎", "男", "810000197001010051", "61234567", "香港邨屋業主聯會", "港澳同胞"]]
# A roster from a liaison office in Japan, in the characters Shift-JIS has.
JAPANESE = [["番号", "姓名", "性別", "旅券番号", "勤務先", "電話"],
            ["1", "王偉", "男", "TZ1234567", "東京中華総商会", "0312345678"],
            ["2", "李美玲", "女", "TZ7654321", "横浜華僑総会", "0451234567"],
            ["3", "陳国華", "男", "TZ1122334", "大阪中華学校", "0661234567"]]
KOREAN = [["번호", "성명", "성별", "직장"], ["1", "김민준", "남", "서울대학교"], ["2", "이서연", "여", "삼성전자"]]


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode(encoding)


@pytest.mark.parametrize("rows, encoding", [
    (TRADITIONAL, "big5"),
    (TRADITIONAL, "cp950"),
    (HONG_KONG, "big5hkscs"),
    (SIMPLIFIED, "utf-16-le"),
    (SIMPLIFIED, "utf-16-be"),
    (JAPANESE, "shift_jis"),
    (SIMPLIFIED, "gbk"),
    (SIMPLIFIED, "gb18030"),
    (SIMPLIFIED, "utf-8"),
    (SIMPLIFIED, "utf-8-sig"),
    (SIMPLIFIED, "utf-16"),  # with its BOM
])
def test_each_encoding_is_decoded_to_the_text_it_was_written_from(rows, encoding):
    kind, sheets = read_sheets(csv_bytes(rows, encoding), "名单.csv")
    assert kind == "csv" and sheets[0].rows == rows


def test_a_big5_roster_is_never_read_as_gb18030():
    """Many Big5 byte pairs are valid GB18030: the bytes decode without an error into garbage."""
    data = csv_bytes(TRADITIONAL, "big5")
    garbage = data.decode("gb18030")
    assert "陳大文" not in garbage and any("\ue000" <= ch <= "\uf8ff" for ch in garbage)
    names = [row[1] for row in read_sheets(data, "名单.csv")[1][0].rows[1:]]
    assert names == ["陳大文", "李美玲", "黃志強"]


@pytest.mark.parametrize("rows, encoding", [
    (SIMPLIFIED, "gbk"),
    (SIMPLIFIED, "utf-16-le"),
    # English headers beside 姓名, as liaison systems often export.
    ([["姓名", "ID number", "Phone", "Organization", "Category"]] + [[r[1], r[3], r[4], r[5], r[6]] for r in TRADITIONAL[1:]],
     "big5"),
])
def test_a_decoded_roster_imports_as_written(rows, encoding):
    plan = prepare_import(csv_bytes(rows, encoding), "名单.csv")
    name = rows[0].index("姓名")
    assert [r.values[F["name"]] for r in plan.rows] == [row[name] for row in rows[1:]]


# A roster kept in traditional characters, headers and values alike (身份證號, 統戰類別, 單位, 職務;
# 無黨派人士, 台灣同胞, 九三學社), as a Big5 file from Hong Kong or Taiwan holds it.
TRADITIONAL_ROSTER = [
    ["序號", "姓名", "性別", "身份證號", "手機號碼", "單位", "職務", "統戰類別", "黨派", "標籤"],
    ["1", "陳大文", "男", ID_WANG, "13812345678", "香港中華總商會", "會長", "無黨派人士", "", "僑領"],
    ["2", "李美玲", "女", ID_LI, "13912345678", "台北市某某科技公司", "經理", "台灣同胞", "九三學社", ""],
    ["3", "黃志強", "男", "", "13712345678", "澳門中華教育會", "理事", "黨外知識分子", "中國致公黨", ""],
]
# Taiwan's and Hong Kong's words for the same columns.
TAIWAN_HEADERS = {"身分證字號": "id_number", "行動電話": "phone", "聯絡電話": "phone", "服務單位": "organization",
                  "統戰對象類別": "category", "職稱": "title", "學歷": "education", "所屬區縣": "district"}


@pytest.mark.parametrize("encoding", ["big5", "big5hkscs", "utf-8"])
def test_a_roster_in_traditional_characters_is_read_as_its_simplified_twin(encoding):
    plan = prepare_import(csv_bytes(TRADITIONAL_ROSTER, encoding), "名單.csv")
    assert [(c.label, c.field) for c in plan.sheets[0].columns] == [
        ("序號", "ignore"), ("姓名", "name"), ("性別", "gender"), ("身份證號", "id_number"), ("手機號碼", "phone"),
        ("單位", "organization"), ("職務", "position"), ("統戰類別", "category"), ("黨派", "party"), ("標籤", "tags")]
    assert [(r.problems, r.warnings) for r in plan.rows] == [(None, None)] * 3
    assert [(r.values[F["category"]], r.values[F["party"]]) for r in plan.rows] == [
        ("non_party", None), ("taiwan", "jiusan"), ("intellectual", "zhigong")]
    assert [r.values[F["position"]] for r in plan.rows] == ["會長", "經理", "理事"]  # values are kept as written


@pytest.mark.parametrize("label, field", TAIWAN_HEADERS.items())
def test_taiwan_and_hong_kong_header_words(label, field):
    from loaders.plan import match_label
    from loaders.reference import load_reference

    assert match_label(label, load_reference()) == field


@pytest.mark.parametrize("data, named", [
    (csv_bytes(KOREAN, "euc_kr"), "EUC-KR"),
    ("name,phone\ncafé,13812345678\n".encode("latin-1"), "CP1250"),
], ids=["euc-kr", "latin-1"])
def test_an_encoding_not_read_is_refused_by_name(data, named):
    with pytest.raises(UnknownEncoding) as exc:
        read_sheets(data, "名单.csv")
    message = exc.value.message
    assert message.count(named) == 2 and "编码" in message and "CSV UTF-8" in message  # both languages


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_private_use_characters_after_decoding_refuse_the_file(encoding):
    rows = [SIMPLIFIED[0], SIMPLIFIED[1], ["2", "李\ue01a", "女", "", "13912345678", "浙江大学", "党外知识分子"]]
    with pytest.raises(UnknownEncoding) as exc:
        read_sheets(csv_bytes(rows, encoding), "名单.csv")
    assert "第 3 行" in exc.value.message and "line 3" in exc.value.message and "U+E01A" in exc.value.message


def test_undecodable_bytes_are_refused():
    with pytest.raises(UnknownEncoding) as exc:
        read_sheets(b"\xff\xfe\x00\xd8" + b"\x81" * 7, "名单.csv")  # a UTF-16 BOM, then a lone surrogate
    assert "编码无法识别" in exc.value.message and "could not be recognised" in exc.value.message
