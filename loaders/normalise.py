"""Cell normalisers: one small function per kind of value, each table-tested.

Every normaliser takes the raw cell (str, float, int, bool, date or datetime as the
reader gives it) and returns `(value, warning)`; `warning` is a bilingual message or
None. A condition that makes the whole row unusable raises a `RowProblem`
(`PrecisionLost`, `InvalidIdNumber`, `UnknownCategory`, `ValueTooLong`).
A value that gives a warning and ends empty is returned as None: it never overwrites.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from store import clock
from store.cells import FORMULA_TRIGGERS
from loaders.errors import InvalidDate, InvalidIdNumber, PrecisionLost, UnknownCategory, UnknownStatus, ValueTooLong
from loaders.reference import Reference, district_key, header_key, street_key, strip_bracketed

# ---------------------------------------------------------------- text

# No-break and zero-width characters, and the bidi controls (U+202A–202E, U+2066–2069, the
# marks U+200E/200F/061C): invisible in a cell, they make a name display reversed or hide
# its characters, and two spellings of one name fail to match.
_INVISIBLE = ("\u00a0\u202f\u2007\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u061c"
              "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
              "\u2066\u2067\u2068\u2069\ufeff")
# C0 and C1 control characters (those str.split does not already treat as whitespace):
# never meant in a cell, and an .xlsx cannot even hold the C0 ones.
_CONTROL = "".join(map(chr, [*range(0x00, 0x09), *range(0x0e, 0x1c), 0x7f, *range(0x80, 0x85),
                             *range(0x86, 0xa0)]))
_DROP = dict.fromkeys(map(ord, _INVISIBLE + _CONTROL), None)
_TRANSLATE = {**{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}, 0x3000: 0x20, **_DROP}
_CJK = "\u2e80-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
# Any character clean_text would change: most Chinese cells have none, and one search
# (0.1 µs) is cheaper than translating and splitting them (0.5 µs).
_NEEDS_CLEANING = re.compile("[\\s'" + re.escape("".join(map(chr, _TRANSLATE))) + "]")
# `'=1+2`: a spreadsheet's text marker before a formula character, as our error reports
# and exports write it (store.cells.neutralise): the cell's text is what follows.
_QUOTED = frozenset(FORMULA_TRIGGERS)


def _unquote(value: str) -> str:
    return value[1:] if value[1:2] in _QUOTED else value


def clean_text(value) -> str:
    """Trim, drop invisible and control characters, full-width to half-width, tidy whitespace.

    A leading `'` before a formula character (`'=1+2`) is dropped: it only marks the cell as text.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = cell_text(value)
    if value.isascii():
        if not value.isprintable():
            value = value.translate(_DROP)
        if value.startswith("'"):
            value = _unquote(value)
        return " ".join(value.split())
    if not _NEEDS_CLEANING.search(value):
        return value
    if value.startswith("'"):
        value = _unquote(value)
    value = value.translate(_TRANSLATE)
    value = _CJK_GAP.sub("", value)
    return " ".join(value.split())


def cell_text(value) -> str:
    """A cell as text: a whole number below 10^15 as its digits, a date as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


# ---------------------------------------------------------------- gender

_GENDERS = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}


def normalise_gender(value):
    text = clean_text(value)
    if not text:
        return None, None
    code = _GENDERS.get(text.lower())
    if code is None:
        return None, f"性别「{text}」无法识别，已留空：请填 男 或 女 · gender {text!r} not recognised, left empty: use 男 or 女"
    return code, None


# ---------------------------------------------------------------- dates

_DATE_FULL = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_DATE_DIGITS8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_DIGITS6 = re.compile(r"^(\d{4})(\d{2})$")
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Birth dates after today are refused; computed once per import rather than once per cell.
_TODAY = [clock.today()]


def refresh_today() -> None:
    _TODAY[0] = clock.today()


def _date_warning(text: str) -> str:
    return (f"日期「{text}」无法识别，已留空：请写成 1975-03-12 或 1975.03 · "
            f"date {text!r} not recognised, left empty: write it as 1975-03-12 or 1975.03")


def _make_date(year: int, month: int, day: int, text: str):
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None, _date_warning(text)
    if not (1900 <= year) or value > _TODAY[0]:
        return None, _date_warning(text)
    return value, None


def parse_date(value):
    """`(date, month_only, warning)`; month-only forms give day 1."""
    if value is None or value == "":
        return None, False, None
    if isinstance(value, dt.datetime):
        return _ok(value.date(), False, cell_text(value))
    if isinstance(value, dt.date):
        return _ok(value, False, value.isoformat())
    if isinstance(value, bool):
        return None, False, _date_warning(str(value))
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None, False, _date_warning(str(value))
        if float(value).is_integer():
            n = int(value)
            if 19000101 <= n <= 21001231:
                return _parse_text(str(n))
            if 190001 <= n <= 210012:
                return _parse_text(str(n))
            if 1900 <= n <= 2100:
                return None, False, _date_warning(str(n))
            if 0 < n < 100000:  # an Excel serial (1900 date system)
                return _ok(_EXCEL_EPOCH + dt.timedelta(days=n), False, str(n))
            return None, False, _date_warning(str(n))
        if 1900 <= int(value) <= 2100:  # 1975.03 typed into a number cell
            return _parse_text(repr(float(value)))
        if 0 < value < 100000:
            return _ok(_EXCEL_EPOCH + dt.timedelta(days=int(value)), False, repr(value))
        return None, False, _date_warning(repr(value))
    return _parse_text(clean_text(value))


def _ok(value: dt.date, month_only: bool, text: str):
    checked, warning = _make_date(value.year, value.month, value.day, text)
    return checked, month_only if checked else False, warning


def _parse_text(text: str):
    if not text:
        return None, False, None
    text = _TIME_SUFFIX.sub("", text.strip())
    for pattern, month_only in ((_DATE_FULL, False), (_DATE_DIGITS8, False)):
        m = pattern.match(text)
        if m:
            value, warning = _make_date(int(m[1]), int(m[2]), int(m[3]), text)
            return value, False, warning
    for pattern in (_DATE_MONTH, _DATE_DIGITS6):
        m = pattern.match(text)
        if m:
            value, warning = _make_date(int(m[1]), int(m[2]), 1, text)
            return value, value is not None, warning
    return None, False, _date_warning(text)


def normalise_date(value):
    parsed, _month_only, warning = parse_date(value)
    return parsed, warning


# ---------------------------------------------------------------- category, party, district, stage

_ENUM_PREFIX = re.compile(
    r"^(?:\(\s*[一二三四五六七八九十\d]+\s*\)|[一二三四五六七八九十]+\s*[、.]|\d+\s*[、.)])\s*"
)


def normalise_category(value, ref: Reference):
    text = clean_text(value)
    if not text:
        return None, None
    key = header_key(_ENUM_PREFIX.sub("", text.translate(_TRANSLATE)))
    code = ref.categories.get(key) or ref.categories.get(strip_bracketed(key))
    if code is None:
        names = "、".join(ref.category_names.values())
        raise UnknownCategory(
            f"统战对象类别「{text}」无法识别：请填以下之一：{names} · "
            f"unknown category {text!r}: use one of the 12 categories (see data/categories.csv)")
    return code, None


_PARTY_SUFFIX = re.compile(r"(党员|盟员|会员|社员|成员|人士)$")


def normalise_party(value, ref: Reference):
    text = clean_text(value)
    if not text:
        return None, None
    key = header_key(text)
    code = ref.parties.get(key) or ref.parties.get(_PARTY_SUFFIX.sub("", key)) \
        or ref.parties.get(strip_bracketed(key))
    if code is None:
        return None, (f"政治面貌「{text}」无法识别，已留空：请填 民革党员、民盟盟员、中共党员、无党派人士、群众 等 · "
                      f"party {text!r} not recognised, left empty")
    return code, None


def lookup_district(text: str, ref: Reference) -> tuple[str | None, bool]:
    """`(code, via_old_name)` for a cleaned district cell."""
    key = header_key(text)
    code = ref.districts.get(key) or ref.districts.get(district_key(text))
    if code:
        return code, False
    code = ref.district_aliases.get(key) or ref.district_aliases.get(district_key(text))
    return code, code is not None


def district_warning(text: str) -> str:
    return (f"区县「{text}」不在本地区划表中，已留空：请填写现行区县名称，如 西湖区 · "
            f"district {text!r} is not a configured district, left empty")


def lookup_street(text: str, ref: Reference, district_code: str | None):
    """The configured streets a cell names, those of `district_code` first."""
    candidates = ref.streets.get(header_key(text)) or ref.streets.get(street_key(text)) or []
    if district_code:
        inside = [r for r in candidates if r.parent_code == district_code]
        if inside:
            return inside
    return candidates


_STAGES = {"发现": "discover", "培养": "cultivate", "使用": "use", "管理": "manage",
           "discover": "discover", "cultivate": "cultivate", "use": "use", "manage": "manage"}


def normalise_stage(value):
    text = clean_text(value)
    if not text:
        return None, None
    key = header_key(text)
    code = _STAGES.get(key) or _STAGES.get(re.sub(r"阶段$", "", key))
    if code is None:
        return None, (f"工作阶段「{text}」无法识别，已留空：请填 发现、培养、使用 或 管理 · "
                      f"stage {text!r} not recognised, left empty: use 发现/培养/使用/管理")
    return code, None


_TAG_SPLIT = re.compile(r"[，,、;；/|｜]")


def split_tags(value) -> tuple[tuple[str, ...] | None, None]:
    text = clean_text(value)
    if not text:
        return None, None
    seen: dict[str, None] = {}
    for part in _TAG_SPLIT.split(text):
        part = part.strip()
        if part:
            if len(part) > 64:
                raise ValueTooLong(f"标签「{part[:20]}…」超过 64 字 · a tag is longer than 64 characters")
            seen.setdefault(part, None)
    return (tuple(seen) or None), None


# ---------------------------------------------------------------- ID numbers (GB 11643)

_ID_CHECK = "10X98765432"
_EXPONENT = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
PRECISION_LOST_MESSAGE = ("身份证号被 Excel 存成了数字，末尾几位已丢失：请把该列设为文本后重新填写 · "
                          "ID number was stored as a number by Excel and lost its last digits: "
                          "format the column as text and re-enter it")


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    # The weights are 2^k mod 11 (k = 17 … 1), so the weighted sum is 2·P(2) mod 11 for the
    # digit polynomial P; 13 ≡ 2 (mod 11), and int(s, 13) evaluates P(13) in C: one call
    # instead of seventeen multiplications (0.14 µs instead of 0.6 µs an ID).
    return _ID_CHECK[2 * int(first17, 13) % 11]


def id15_to_18(id15: str) -> str:
    """A first-generation 15-digit ID as the 18-character one (century 19, plus check digit)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + id_check_digit(first17)


def id_birth_date(id18: str) -> dt.date | None:
    try:
        return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


def id_gender(id18: str) -> str:
    return "M" if int(id18[16]) % 2 else "F"


def _invalid_id(text: str, why_zh: str, why_en: str) -> InvalidIdNumber:
    return InvalidIdNumber(f"身份证号「{text}」无效（{why_zh}）：请核对后重新填写 · "
                           f"invalid ID number {text!r} ({why_en}): check and re-enter it")


_ID18 = re.compile(r"\d{17}[\dX]")


def id_info(value) -> tuple[str, dt.date, str] | None:
    """`(id18, birth date, gender)` for an ID cell, or None when empty; raises like normalise_id_number."""
    if isinstance(value, str) and len(value) == 18:  # the common case, done quickly
        text = value.upper()
        if _ID18.fullmatch(text):
            born = id_birth_date(text)
            if born is not None and born.year >= 1900 and born <= _TODAY[0] and id_check_digit(text[:17]) == text[17]:
                return text, born, "M" if int(text[16]) % 2 else "F"
    id18, _warning = normalise_id_number(value)
    if id18 is None:
        return None
    return id18, id_birth_date(id18), id_gender(id18)


_ID18_PLAIN = re.compile(r"[0-9]{17}[0-9Xx]")  # ASCII only: other digits go the general way


def id_column(column, general) -> list:
    """`id_info` for a whole column: plain 18-character IDs in one tight loop.

    A cell that is not a plain, valid ID (15 digits, spaces, a bad check digit, a number
    cell, empty) is handed to `general(raw)`, the memoised normaliser with its messages.
    IDs are unique, so a memo would only add a dict entry per cell; the birth date is
    computed once per distinct date.
    """
    plain = _ID18_PLAIN.fullmatch
    today = _TODAY[0]
    born_of: dict[str, dt.date | None] = {}
    out = []
    append = out.append
    for raw in column:
        if raw.__class__ is str and len(raw) == 18 and plain(raw):
            key = raw[6:14]
            born = born_of.get(key, False)
            if born is False:
                born = id_birth_date(raw)
                if born is not None and (born.year < 1900 or born > today):
                    born = None
                born_of[key] = born
            if born is not None:
                text = raw if raw[17] != "x" else raw.upper()
                if id_check_digit(text[:17]) == text[17]:
                    append((text, born, "M" if int(text[16]) % 2 else "F"))
                    continue
        append(general(raw))
    return out


def normalise_id_number(value):
    """An 18-character ID (X upper case) or None; raises PrecisionLost / InvalidIdNumber."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        raise _invalid_id(str(value), "不是号码", "not a number")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise _invalid_id(repr(value), "不是整数", "not a whole number")
        if abs(value) >= 1e15:
            raise PrecisionLost(PRECISION_LOST_MESSAGE)
        text = str(int(value))
    else:
        text = clean_text(value)
        if not text:
            return None, None
        if " " in text or "-" in text:
            text = text.replace(" ", "").replace("-", "")
        text = text.upper()
        if "E" in text and _EXPONENT.match(text):
            raise PrecisionLost(PRECISION_LOST_MESSAGE)
    if len(text) == 15 and text.isdigit():
        id18 = id15_to_18(text)
        if id_birth_date(id18) is None:
            raise _invalid_id(text, "出生日期不存在", "no such birth date")
        return id18, None
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise _invalid_id(text, "应为 18 位，最后一位可为 X", "must be 18 characters, the last may be X")
    born = id_birth_date(text)
    if born is None or born.year < 1900 or born > _TODAY[0]:
        raise _invalid_id(text, "出生日期不存在", "no such birth date")
    if id_check_digit(text[:17]) != text[17]:
        raise _invalid_id(text, "校验位不符", "check digit does not match")
    return text, None


# ---------------------------------------------------------------- phone

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def normalise_phone(value):
    """`((phone, is_mobile), warning)`: an 11-digit mobile, or the text as written with a warning."""
    text = clean_text(value)
    if not text:
        return None, None
    if len(text) == 11 and _MOBILE.match(text):
        return (text, True), None
    digits = _PHONE_NOISE.sub("", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix):]
            break
    if _MOBILE.match(digits):
        return (digits, True), None
    return (text, False), (f"手机号「{text}」不是 11 位手机号，已按原样保存，不用于匹配人员 · "
                           f"phone {text!r} is not an 11-digit mobile: kept as written, not used for matching")



_MOBILE_PLAIN = re.compile(r"1[3-9][0-9]{9}")


def mobile_column(column, general) -> list:
    """`normalise_phone` values for a whole column: plain 11-digit mobiles in one tight loop.

    Anything else (spaces, +86, landlines, number cells, empty) goes to `general(raw)`,
    the memoised normaliser with its warnings.
    """
    plain = _MOBILE_PLAIN.fullmatch
    out = []
    append = out.append
    for raw in column:
        if raw.__class__ is str and len(raw) == 11 and plain(raw):
            append((raw, True))
        else:
            append(general(raw))
    return out

def name_column(column, general) -> list:
    """Names for a whole column: a name with nothing to clean is kept as it is.

    Names are nearly all distinct, so a memo entry per name costs more than it saves;
    only names with spaces, full-width or invisible characters, a non-text cell or an
    over-long name go to `general(raw)`, the memoised normaliser with its messages.
    """
    needs_cleaning = _NEEDS_CLEANING.search
    limit = MAX_LENGTHS["name"]
    out = []
    append = out.append
    for raw in column:
        if raw.__class__ is str and raw and len(raw) <= limit and not needs_cleaning(raw):
            append(raw)
        else:
            append(general(raw))
    return out


# ---------------------------------------------------------------- ethnicity and plain text

_ETHNIC_GROUPS = frozenset(
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 "
    "纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 "
    "德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺".split())


def normalise_ethnicity(value):
    text = clean_text(value)
    if not text:
        return None, None
    if not text.endswith("族") and text in _ETHNIC_GROUPS:
        text += "族"
    return text, None


def normalise_text(value):
    text = clean_text(value)
    return (text or None), None


MAX_LENGTHS = {"name": 64, "ethnicity": 32, "phone": 32, "street": 64, "organization": 200,
               "position": 200, "education": 32, "title": 64, "source": 64, "activity_title": 200,
               "organizer": 200}

FIELD_LABELS = {
    "name": "姓名", "gender": "性别", "ethnicity": "民族", "birth_date": "出生日期",
    "id_number": "身份证号", "phone": "手机", "party": "政治面貌", "category": "统战对象类别",
    "district": "所属区县", "street": "街道", "organization": "工作单位", "position": "职务",
    "education": "学历", "title": "职称", "tags": "标签", "stage": "工作阶段", "source": "推荐来源",
    "activity_title": "活动名称", "activity_date": "活动日期", "status": "状态", "activity_kind": "活动类型",
    "organizer": "主办单位", "registered_at": "报名时间", "checked_in_at": "签到时间",
}


def check_length(field: str, text: str | None) -> None:
    limit = MAX_LENGTHS.get(field)
    if text and limit and len(text) > limit:
        raise ValueTooLong(f"{FIELD_LABELS[field]}超过 {limit} 字：请缩短 · "
                           f"{field} is longer than {limit} characters: shorten it")


# ---------------------------------------------------------------- attendance sheets

_WHEN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?(?:\s*[:：]\s*(\d{1,2})(?:\.\d+)?)?)?$")
_WHEN_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _when_warning(text: str) -> str:
    return (f"日期「{text}」无法识别：请写成 2024-05-12 或 2024-05-12 14:30 · "
            f"date {text!r} not recognised: write it as 2024-05-12 or 2024-05-12 14:30")


def parse_when(value):
    """`((datetime, has_time), warning)` for an activity date or a sign-up/check-in time.

    Unlike birth dates, these may lie in the future (a sign-up sheet for next week).
    A date without a time is midnight with `has_time` False.
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return (value.replace(microsecond=0), value.time() != dt.time(0)), None
    if isinstance(value, dt.date):
        return (dt.datetime.combine(value, dt.time(0)), False), None
    if isinstance(value, bool):
        return None, _when_warning(str(value))
    if isinstance(value, (int, float)):
        if math.isfinite(value) and float(value).is_integer() and 19000101 <= value <= 21001231:
            return _when_text(str(int(value)))
        if math.isfinite(value) and 0 < value < 100000:  # an Excel serial, the fraction is the time
            moment = dt.datetime.combine(_EXCEL_EPOCH, dt.time(0)) + dt.timedelta(days=float(value))
            moment = moment.replace(microsecond=0) + dt.timedelta(seconds=round(moment.microsecond / 1e6))
            return (moment, moment.time() != dt.time(0)), None
        return None, _when_warning(cell_text(value))
    return _when_text(clean_text(value))


def _when_text(text: str):
    if not text:
        return None, None
    m = _WHEN.match(text) or _WHEN_DIGITS.match(text)
    if m:
        parts = [int(p) if p else 0 for p in m.groups()] + [0] * (6 - len(m.groups()))
        has_time = len(m.groups()) > 3 and m.group(4) is not None
        try:
            moment = dt.datetime(*parts[:6])
        except ValueError:
            return None, _when_warning(text)
        if 1900 <= moment.year <= 2100:
            return (moment, has_time), None
    return None, _when_warning(text)


def normalise_activity_date(value):
    """An activity's date (and time): required, so an unreadable one rejects the row."""
    when, warning = parse_when(value)
    if warning:
        raise InvalidDate("活动" + warning)
    return when, None


# Status codes in their forward order: a sheet can move a participation up, never down.
STATUS_RANK = {"registered": 0, "approved": 1, "rejected": 1, "checked_in": 2, "absent": 2}
_STATUSES = {
    "报名": "registered", "已报名": "registered", "报名成功": "registered", "待审核": "registered",
    "审核通过": "approved", "通过": "approved", "已通过": "approved", "同意": "approved", "录取": "approved",
    "未通过": "rejected", "审核未通过": "rejected", "不通过": "rejected", "审核不通过": "rejected",
    "驳回": "rejected", "未录取": "rejected",
    "签到": "checked_in", "已签到": "checked_in", "出席": "checked_in", "参加": "checked_in",
    "已参加": "checked_in", "到场": "checked_in",
    "缺席": "absent", "未签到": "absent", "未到": "absent", "未参加": "absent", "请假": "absent",
    **{code: code for code in STATUS_RANK}, "checkedin": "checked_in", "checked-in": "checked_in",
}


def normalise_status(value):
    text = clean_text(value)
    if not text:
        return None, None
    code = _STATUSES.get(header_key(text))
    if code is None:
        raise UnknownStatus(f"状态「{text}」无法识别：请填 报名、审核通过、未通过、签到 或 缺席 · "
                            f"status {text!r} not recognised: use 报名, 审核通过, 未通过, 签到 or 缺席")
    return code, None


_ACTIVITY_KINDS = (("培训", "training"), ("讲座", "lecture"), ("考察", "onsite"), ("现场", "onsite"),
                   ("调研", "survey"))
_KIND_CODES = ("training", "lecture", "onsite", "survey", "other")


def normalise_activity_kind(value):
    """`((kind code, online), None)`: 培训/培训班 training, 讲座 lecture, 考察/现场 onsite, 调研 survey, else other."""
    text = clean_text(value)
    if not text:
        return None, None
    key = header_key(text)
    online = "线上" in key or "网络" in key or "online" in key
    if key in _KIND_CODES:
        return (key, online), None
    for word, code in _ACTIVITY_KINDS:
        if word in key:
            return (code, online), None
    return ("other", online), None
