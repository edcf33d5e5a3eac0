"""统一社会信用代码 (GB 32100-2015): normalising and checking a unified social credit code.

Pure functions, no database. Layout of the 18 characters:
  1     registration authority (登记管理部门): 1 机构编制, 5 民政, 9 工商, N 农业, Y 其他 …
  2     category within it (机构类别): 91 企业, 92 个体工商户, 93 农民专业合作社, 51 社会团体 …
  3–8   the registering office's division code (GB/T 2260)
  9–17  the subject's organisation code (GB 11714), itself ending in a check character
  18    the check character over the first 17, modulo 31

Some codes issued by early pilot offices (Fujian, 2014–2015) carry an organisation code
whose own GB 11714 check does not hold; they are lawful, so that check gives a warning,
while the code's own check character (position 18) must always hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I O Z S V
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
# 3^(i-1) mod 31 for positions 1..17: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# (登记管理部门, 机构类别) -> (name_zh, name_en); GB 32100-2015 Annex A as amended since.
CATEGORIES: dict[str, tuple[str, str]] = {
    "11": ("机关", "government body"),
    "12": ("事业单位", "public institution"),
    "13": ("中央编办直接管理机构编制的群众团体", "mass organisation under the central establishment office"),
    "19": ("其他（机构编制）", "other (establishment office)"),
    "21": ("外国常驻新闻机构", "foreign news agency office"),
    "29": ("其他（外交）", "other (foreign affairs)"),
    "31": ("律师执业机构", "law firm"),
    "32": ("公证处", "notary office"),
    "33": ("基层法律服务所", "grassroots legal service office"),
    "34": ("司法鉴定机构", "forensic appraisal institution"),
    "35": ("仲裁委员会", "arbitration commission"),
    "39": ("其他（司法行政）", "other (justice administration)"),
    "41": ("外国在华文化中心", "foreign cultural centre"),
    "49": ("其他（文化）", "other (culture)"),
    "51": ("社会团体", "social organisation"),
    "52": ("民办非企业单位", "private non-enterprise unit"),
    "53": ("基金会", "foundation"),
    "59": ("其他（民政）", "other (civil affairs)"),
    "61": ("外国旅游部门常驻代表机构", "foreign tourism office"),
    "62": ("港澳台地区旅游部门常驻内地（大陆）代表机构", "Hong Kong, Macao or Taiwan tourism office"),
    "69": ("其他（旅游）", "other (tourism)"),
    "71": ("宗教活动场所", "place of religious activity"),
    "72": ("宗教院校", "religious college"),
    "79": ("其他（宗教）", "other (religious affairs)"),
    "81": ("基层工会", "grassroots trade union"),
    "89": ("其他（工会）", "other (trade unions)"),
    "91": ("企业", "enterprise"),
    "92": ("个体工商户", "individual business"),
    "93": ("农民专业合作社", "farmers' cooperative"),
    "A1": ("军队事业单位", "military public institution"),
    "A9": ("其他（军队）", "other (military)"),
    "N1": ("组级集体经济组织", "group-level collective economic organisation"),
    "N2": ("村级集体经济组织", "village-level collective economic organisation"),
    "N3": ("乡镇级集体经济组织", "township-level collective economic organisation"),
    "N9": ("其他（农业）", "other (agriculture)"),
    "Y1": ("其他", "other"),
}

# Full-width ASCII and the ideographic space to half-width; whitespace, dashes and dots dropped.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_NOISE = re.compile(r"[\s\u3000\u00a0\u200b-\u200d\ufeff\-‐‑–—·.]+")


class InvalidCreditCode(ValueError):
    """A value that is not a valid 统一社会信用代码; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class CreditCode:
    code: str
    category: str            # the first two characters, e.g. "91"
    category_name: str       # 企业, 社会团体 …
    division: str            # positions 3–8
    organisation_code: str   # positions 9–17
    warning: str | None      # the embedded organisation code's own check does not hold


def normalise(value) -> str:
    """Upper case, half-width, without spaces, dashes or dots: `９１３５ 0100-m000100y43` -> `91350100M000100Y43`."""
    if value is None:
        return ""
    text = str(value).translate(_HALF_WIDTH)
    return _NOISE.sub("", text).upper()


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check(first8: str) -> str:
    """The GB 11714 check character for an organisation code's first 8 characters (digits or A–Z)."""
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(first8, ORG_WEIGHTS))
    rest = 11 - total % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def _refuse(text: str, why_zh: str, why_en: str) -> InvalidCreditCode:
    return InvalidCreditCode(f"统一社会信用代码「{text}」无效（{why_zh}）：请核对后重新填写 · "
                             f"invalid unified social credit code {text!r} ({why_en}): check and re-enter it")


def parse(value) -> CreditCode:
    """The code's parts after normalising; raises InvalidCreditCode naming what is wrong."""
    code = normalise(value)
    if not code:
        raise _refuse("", "为空", "empty")
    if len(code) != 18:
        raise _refuse(code, f"应为 18 位，实为 {len(code)} 位", f"must be 18 characters, not {len(code)}")
    bad = sorted({ch for ch in code if ch not in VALUES})
    if bad:
        raise _refuse(code, f"含有不允许的字符 {''.join(bad)}（不用 I O Z S V）",
                      f"characters {''.join(bad)} are not allowed (no I O Z S V)")
    category = code[:2]
    if category not in CATEGORIES:
        raise _refuse(code, f"登记管理部门和机构类别代码「{category}」不存在",
                      f"no registration authority and category {category!r}")
    if not code[2:8].isdigit():
        raise _refuse(code, "第 3–8 位应为行政区划代码（数字）", "positions 3-8 must be a division code (digits)")
    if check_char(code[:17]) != code[17]:
        raise _refuse(code, "校验位不符", "check character does not match")
    org = code[8:17]
    warning = None
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", org) or organisation_check(org[:8]) != org[8]:
        warning = (f"统一社会信用代码「{code}」中的组织机构代码 {org} 校验位不符（早期试点地区的代码可能如此），请核对 · "
                   f"the organisation code {org} inside {code} fails its own check (pilot-area codes may); verify it")
    return CreditCode(code, category, CATEGORIES[category][0], code[2:8], org, warning)


def is_valid(value) -> bool:
    try:
        parse(value)
    except InvalidCreditCode:
        return False
    return True
