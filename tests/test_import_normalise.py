"""The normalisers, clause by clause of IMPORT.md "Normalising" (table-driven, plus properties)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.errors import InvalidIdNumber, PrecisionLost, UnknownCategory
from loaders.normalise import (
    PRECISION_LOST_MESSAGE,
    cell_text,
    clean_text,
    id15_to_18,
    id_check_digit,
    lookup_district,
    normalise_category,
    normalise_gender,
    normalise_id_number,
    normalise_party,
    normalise_phone,
    normalise_stage,
    parse_date,
    split_tags,
)
from loaders.reference import header_key, load_reference, strip_bracketed

REF = load_reference()
W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def reference_check(first17: str) -> str:
    # GB 11643-1999 written out independently: Σ(a_i·W_i) mod 11 -> 1 0 X 9 8 7 6 5 4 3 2
    return "10X98765432"[sum(int(a) * w for a, w in zip(first17, W)) % 11]


@pytest.mark.parametrize("raw, expected", [
    ("  王伟  ", "王伟"),
    ("王　伟", "王伟"),  # ideographic space between CJK
    ("王 \t 伟", "王伟"),
    ("Zhang   San", "Zhang San"),
    ("杭州 ABC 公司", "杭州 ABC 公司"),
    ("\u00a0李娜\u200b", "李娜"),
    ("ＡＢＣ１２３", "ABC123"),
    ("１３８１２３４５６７８", "13812345678"),
    ("　　", ""),
    ("\u200b", ""),
    (19750312.0, "19750312"),
    (330106750312001.0, "330106750312001"),
    (13812345678.0, "13812345678"),
    (dt.date(1975, 3, 12), "1975-03-12"),
    # Bidi controls and invisible characters: a name must not display reversed or hide a character.
    ("\u202e伟王\u202c", "伟王"),
    ("王\u200f伟\u200e", "王伟"),
    ("\u2066李娜\u2069", "李娜"),
    ("\u2067\u2068张敏\u202a\u202b\u202d", "张敏"),
    ("Zhang\u202eSan", "ZhangSan"),
    ("\u061c王\u00ad伟\u2061\u2062\u2063\u2064", "王伟"),
    ("\ufeff\u200b\u200c\u200d", ""),
    # Control characters are never meant; an .xlsx cannot even hold them.
    ("张\x01敏\x7f", "张敏"), ("a\x00b\x08c\x1b", "abc"), ("\x9f王伟\x80", "王伟"),
    # A leading ' before a formula character is the text marker our reports write.
    ("'=1+2", "=1+2"), ("'+86 138 1234 5678", "+86 138 1234 5678"), ("'-李娜", "-李娜"), ("'@王", "@王"),
    ("'王伟", "'王伟"), ("O'Brien", "O'Brien"), ("'", "'"),
])
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def _clean_text_the_long_way(value: str) -> str:
    # What clean_text does to any non-ASCII string, without its shortcut for clean ones.
    from loaders.normalise import _CJK_GAP, _TRANSLATE
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        value = value[1:]
    return " ".join(_CJK_GAP.sub("", value.translate(_TRANSLATE)).split())


@given(st.text(alphabet="王李伟芳AB1 \t\u3000\u00a0\u200b\u2028\x1c\x85ＡＢ１（）·、-\u202e\u2066\u200f\u061c\u00ad'=\x01",
               max_size=8))
def test_clean_text_shortcut_changes_nothing(value):
    if not value.isascii():
        assert clean_text(value) == _clean_text_the_long_way(value)


def test_whole_number_cells_read_as_digits_below_10_15():
    assert cell_text(999999999999999.0) == "999999999999999"
    assert cell_text(1.5) == "1.5"


@pytest.mark.parametrize("raw, expected", [
    ("男", "M"), ("男性", "M"), ("M", "M"), ("m", "M"), ("male", "M"), ("Male", "M"),
    ("女", "F"), ("女性", "F"), ("F", "F"), ("female", "F"), (" 女 ", "F"),
    ("", None),
])
def test_gender(raw, expected):
    assert normalise_gender(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["未知", "1", "男女"])
def test_unknown_gender_warns_and_is_empty(raw):
    value, warning = normalise_gender(raw)
    assert value is None and "性别" in warning and "gender" in warning


@pytest.mark.parametrize("raw, expected, month_only", [
    (dt.date(1975, 3, 12), dt.date(1975, 3, 12), False),
    (dt.datetime(1975, 3, 12, 0, 0), dt.date(1975, 3, 12), False),
    (27465.0, dt.date(1975, 3, 12), False),  # Excel serial
    ("1975-03-12", dt.date(1975, 3, 12), False),
    ("1975/3/12", dt.date(1975, 3, 12), False),
    ("1975.03.12", dt.date(1975, 3, 12), False),
    ("1975.03", dt.date(1975, 3, 1), True),
    ("1975.3", dt.date(1975, 3, 1), True),
    ("1975年3月", dt.date(1975, 3, 1), True),
    ("1975年3月12日", dt.date(1975, 3, 12), False),
    ("19750312", dt.date(1975, 3, 12), False),
    (19750312.0, dt.date(1975, 3, 12), False),
    ("197503", dt.date(1975, 3, 1), True),
    (197503.0, dt.date(1975, 3, 1), True),
    (1975.03, dt.date(1975, 3, 1), True),  # typed 1975.03 into a number cell
    ("1975-03-12 00:00:00", dt.date(1975, 3, 12), False),
    ("１９７５．０３", dt.date(1975, 3, 1), True),
])
def test_dates(raw, expected, month_only):
    assert parse_date(raw) == (expected, month_only, None)


@pytest.mark.parametrize("raw", ["1975-13-01", "1975-02-30", "75.3", "三月", "1975", "2999-01-01", "abc", True])
def test_bad_dates_warn_and_are_empty(raw):
    value, _month_only, warning = parse_date(raw)
    assert value is None and "日期" in warning and "date" in warning


@pytest.mark.parametrize("raw, code", [
    ("民主党派成员", "democratic_party"), ("民主党派", "democratic_party"), ("democratic_party", "democratic_party"),
    ("无党派", "non_party"), ("知识分子", "intellectual"), ("少数民族", "ethnic_minority"),
    ("宗教界", "religious"), ("非公经济人士", "private_economy"), ("新阶层", "new_social_stratum"),
    ("留学人员", "overseas_student"), ("港澳同胞", "hk_macao"), ("台胞台属", "taiwan"), ("侨界", "overseas_chinese"),
    ("（六）非公有制经济人士", "private_economy"), ("(6)非公有制经济人士", "private_economy"),
    ("六、非公有制经济人士", "private_economy"), ("6.非公经济人士", "private_economy"),
    ("6、非公经济人士", "private_economy"), ("（一）民主党派成员", "democratic_party"),
    ("其他需要联系和团结的人员", "other"), ("新的社会阶层人士", "new_social_stratum"),
])
def test_category(raw, code):
    assert normalise_category(raw, REF) == (code, None)


def test_unknown_category_is_a_row_problem():
    with pytest.raises(UnknownCategory) as exc:
        normalise_category("外星人", REF)
    assert "外星人" in exc.value.message and "category" in exc.value.message


@pytest.mark.parametrize("raw, code", [
    ("民革党员", "rcck"), ("民盟盟员", "cdl"), ("民建会员", "cndca"), ("民进会员", "capd"),
    ("农工党党员", "cpwdp"), ("致公党党员", "zhigong"), ("九三学社社员", "jiusan"), ("台盟盟员", "tdsl"),
    ("中共党员", "cpc"), ("无党派人士", "non_party"), ("群众", "masses"), ("民盟", "cdl"), ("cdl", "cdl"),
    ("九三学社", "jiusan"), ("中国民主同盟", "cdl"),
])
def test_party(raw, code):
    assert normalise_party(raw, REF) == (code, None)


def test_unknown_party_warns_and_is_empty():
    value, warning = normalise_party("火星党", REF)
    assert value is None and "政治面貌" in warning


@pytest.mark.parametrize("raw, code, via_alias", [
    ("西湖区", "330106", False), ("西湖", "330106", False), ("杭州市西湖区", "330106", False),
    ("浙江省杭州市西湖区", "330106", False), ("淳安县", "330127", False), ("淳安", "330127", False),
    ("建德市", "330182", False), ("建德", "330182", False), ("330106", "330106", False),
    ("下城区", "330105", True), ("江干区", "330102", True), ("杭州市下城区", "330105", True), ("江干", "330102", True),
])
def test_district(raw, code, via_alias):
    assert lookup_district(clean_text(raw), REF) == (code, via_alias)


def test_unknown_district():
    assert lookup_district("朝阳区", REF) == (None, False)


@pytest.mark.parametrize("raw, expected", [
    ("发现", "discover"), ("培养", "cultivate"), ("使用", "use"), ("管理", "manage"), ("use", "use"),
    ("Manage", "manage"),
])
def test_stage(raw, expected):
    assert normalise_stage(raw) == (expected, None)


def test_unknown_stage_warns():
    value, warning = normalise_stage("退休")
    assert value is None and "阶段" in warning


@pytest.mark.parametrize("raw, expected", [
    ("人大代表，政协委员", ("人大代表", "政协委员")),
    ("a,b、c;d；e/f|g", ("a", "b", "c", "d", "e", "f", "g")),
    ("青年、 青年 、女性", ("青年", "女性")),
    ("", None),
])
def test_tags(raw, expected):
    assert split_tags(raw) == (expected, None)


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"), (13812345678.0, "13812345678"), ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"), ("+86 138 1234 5678", "13812345678"), ("8613812345678", "13812345678"),
    ("+86-13812345678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
])
def test_mobile(raw, expected):
    assert normalise_phone(raw) == ((expected, True), None)


@pytest.mark.parametrize("raw", ["0571-87654321", "12812345678", "1381234567", "138123456789", "无"])
def test_not_a_mobile_is_kept_with_warning(raw):
    (text, mobile), warning = normalise_phone(raw)
    assert text == clean_text(raw) and mobile is False and "手机" in warning


# ---- ID numbers (GB 11643)

VALID_IDS = ["11010519491231002X", "440524188001010014", "330106197503120015"]


@pytest.mark.parametrize("raw, expected", [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    (" 330106197503120015 ", "330106197503120015"),
    ("330106750312001", "330106197503120015"),  # 15 -> 18
    (330106750312001.0, "330106197503120015"),  # 15 digits stored as a number: fine
])
def test_id_number(raw, expected):
    assert normalise_id_number(raw) == (expected, None)


@pytest.mark.parametrize("raw", [330106197503120015.0, 3.30106e17, "3.30106E+17", "3.30106197503E+17", 1234567890123456.0])
def test_id_number_that_lost_precision(raw):
    with pytest.raises(PrecisionLost) as exc:
        normalise_id_number(raw)
    assert exc.value.message == PRECISION_LOST_MESSAGE


@pytest.mark.parametrize("raw", ["330106197503120016", "33010619750312001", "3301061975031200155", "330106197513120015",
                                 "33010619750312001Y", "abc", "330106751312001"])
def test_invalid_id_number(raw):
    with pytest.raises(InvalidIdNumber) as exc:
        normalise_id_number(raw)
    assert "身份证号" in exc.value.message and "ID number" in exc.value.message


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_the_standard(first17):
    assert id_check_digit(first17) == reference_check(first17)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_only_the_right_check_digit_is_accepted(first17, last):
    candidate = first17[:6] + "19800101" + first17[14:] + last
    ok = reference_check(candidate[:17]) == last
    if ok:
        assert normalise_id_number(candidate)[0] == candidate
    else:
        with pytest.raises(InvalidIdNumber):
            normalise_id_number(candidate)


@given(st.text(alphabet="0123456789", min_size=6, max_size=6),
       st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)),
       st.text(alphabet="0123456789", min_size=3, max_size=3))
def test_15_to_18_conversion(area, born, seq):
    id15 = f"{area}{born:%y%m%d}{seq}"
    id18 = id15_to_18(id15)
    assert id18[:6] == area and id18[6:14] == f"{born:%Y%m%d}" and id18[14:17] == seq
    assert id18[17] == reference_check(id18[:17])
    assert normalise_id_number(id15) == (id18, None)


@pytest.mark.parametrize("label, key", [
    ("姓　　名", "姓名"), ("出生年月（例：1975.03）", "出生年月"), ("*身份证号", "身份证号"), ("ID Number", "idnumber"),
    ("乡镇（街道）", "乡镇(街道)"),
])
def test_header_keys(label, key):
    assert strip_bracketed(header_key(label)) == key or header_key(label) == key


def test_every_synonym_of_the_contract_is_mapped():
    contract = {
        "name": "姓名/名字", "gender": "性别", "ethnicity": "民族", "birth_date": "出生年月/出生日期/生日",
        "id_number": "身份证号/身份证号码/公民身份号码/证件号码", "phone": "手机/手机号码/联系电话/联系方式",
        "party": "政治面貌/党派", "category": "统战对象类别/对象类别/人员类别/类别",
        "district": "所属区县/区县/所在区/区域", "street": "街道/镇街/乡镇(街道)/乡镇（街道）",
        "organization": "工作单位/单位", "position": "职务/现任职务", "education": "学历/文化程度", "title": "职称",
        "tags": "标签", "stage": "阶段/工作阶段", "source": "推荐来源/来源",
    }
    from loaders.plan import match_label

    for fld, synonyms in contract.items():
        for synonym in synonyms.split("/"):
            assert match_label(synonym, REF) == fld, synonym
        assert match_label(fld, REF) == fld  # English names work too


@given(st.lists(st.one_of(st.text(alphabet="王李伟AB \t\u3000\u200bＡ", max_size=6),
                          st.text(alphabet="王李伟", min_size=60, max_size=70),  # around the 64-character limit
                          st.integers(0, 99), st.none()), max_size=20))
def test_name_column_shortcut_agrees_with_the_memo(column):
    from loaders.normalise import name_column
    from loaders.plan import CellMemo, _text_field

    memo = CellMemo(_text_field("name"))
    assert name_column(column, memo.__getitem__) == [CellMemo(_text_field("name"))[v] for v in column]


@pytest.mark.parametrize("label, fld", [
    # Headers of real rosters (a clerk's 统战类别 left 29 of 30 rows rejected).
    ("统战类别", "category"), ("统战对象类别", "category"), ("人士类别", "category"), ("类别", "category"),
    ("统战对象类型", "category"), ("代表人士类别", "category"), ("人员类型", "category"),
    ("人员姓名", "name"), ("居民身份证号码", "id_number"), ("身份证件号码", "id_number"), ("移动电话", "phone"),
    ("联系手机", "phone"), ("所属党派", "party"), ("所在区县", "district"), ("县（市、区）", "district"),
    ("所属街道", "street"), ("街道/乡镇", "street"), ("镇（街道）", "street"), ("单位名称", "organization"),
    ("企业名称", "organization"), ("行政职务", "position"), ("最高学历", "education"), ("专业技术职称", "title"),
    ("所处阶段", "stage"), ("推荐单位", "source"), ("民族成分", "ethnicity"), ("出生时间", "birth_date"),
    ("会议名称", "activity_title"), ("参会情况", "status"), ("举办单位", "organizer"),
    ("错误原因", "ignore"),  # the error report's own column: read as nothing, listed as nothing
])
def test_roster_headers_are_recognised(label, fld):
    from loaders.plan import match_label

    assert match_label(label, REF) == fld


def test_no_synonym_names_two_fields():
    from collections import defaultdict

    from loaders.reference import DATA_DIR, _read_csv

    fields = defaultdict(set)
    for row in _read_csv(DATA_DIR / "column_synonyms.csv"):
        fields[header_key(row["synonym"])].add(row["field"])
    assert {key: f for key, f in fields.items() if len(f) > 1} == {}
