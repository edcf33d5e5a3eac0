"""统一社会信用代码 (GB 32100-2015) and the embedded organisation code (GB 11714)."""

import pytest

from store.credit_code import (
    ALPHABET,
    CATEGORIES,
    WEIGHTS,
    InvalidCreditCode,
    check_char,
    is_valid,
    normalise,
    organisation_check,
    parse,
)

# Cited in public material as valid; each also holds by the standard's arithmetic.
PUBLISHED = [
    ("91350100M000100Y43", "91", "企业"),
    ("91110000600037341L", "91", "企业"),  # weighted sum 538 -> L
]
# Letter-prefixed and non-enterprise codes, built by hand from the standard's tables
# (organisation check first, then the code's own check) and pinned here as literals.
CONSTRUCTED = [
    ("N23301100000000195", "N2", "村级集体经济组织"),
    ("Y1330106MA2H000068", "Y1", "其他"),
    ("513301005012345694", "51", "社会团体"),
    ("12330000470001235A", "12", "事业单位"),
]


def test_weights_are_the_standard_ones():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize("code, category, name", PUBLISHED + CONSTRUCTED)
def test_valid_codes(code, category, name):
    parsed = parse(code)
    assert (parsed.code, parsed.category, parsed.category_name) == (code, category, name)
    assert parsed.organisation_code == code[8:17]
    assert parsed.warning is None


def test_published_sum():
    total = sum(ALPHABET.index(c) * w for c, w in zip("91110000600037341", WEIGHTS))
    assert total == 538 and check_char("91110000600037341") == "L"


@pytest.mark.parametrize("raw", [
    "９１３５０１００Ｍ０００１００Ｙ４３",      # full-width
    " 91350100 M000100 Y43 ",                  # spaces
    "91350100m000100y43",                      # lower case
    "9135-0100-M000-100Y43",                   # dashes
    "91350100\u3000M000100Y43\u200b",          # ideographic space, zero-width space
])
def test_normalising(raw):
    assert normalise(raw) == "91350100M000100Y43"
    assert parse(raw).code == "91350100M000100Y43"


@pytest.mark.parametrize("raw, why", [
    ("91110000600037341N", "校验位不符"),
    ("91350100M0001TGQXM", "校验位不符"),       # a pilot-area code cited as failing the check
    ("9135010", "应为 18 位"),
    ("91350100M000100Y4321", "应为 18 位"),
    ("91350100M00O100Y43", "不允许的字符 O"),
    ("91350100M000I00Y43", "不允许的字符 I"),
    ("Z1350100M000100Y43", "不允许的字符 Z"),
    ("94350100M000100Y43", "「94」不存在"),
    ("N4330110000000019A", "「N4」不存在"),
    ("9135A100M000100Y43", "行政区划代码"),
    ("", "为空"),
    (None, "为空"),
])
def test_invalid_codes(raw, why):
    with pytest.raises(InvalidCreditCode) as err:
        parse(raw)
    assert why in str(err.value)
    assert " · " in str(err.value)  # Chinese first, then English
    assert not is_valid(raw)


def test_organisation_code_check():
    assert organisation_check("60003734") == "1"
    assert organisation_check("M000100Y") == "4"
    # 11 - S mod 11 = 10 -> X, = 11 -> 0
    assert {organisation_check(f"{n:08d}") for n in range(200)} >= {"X", "0"}


def test_embedded_organisation_code_failing_its_check_is_a_warning():
    # Positions 9-17 altered so the organisation check fails, position 18 recomputed.
    first17 = "91330100" + "12345678" + "0"
    assert organisation_check("12345678") != "0"
    code = first17 + check_char(first17)
    parsed = parse(code)
    assert parsed.warning and "组织机构代码" in parsed.warning and " · " in parsed.warning


def test_every_category_code_is_two_alphabet_characters():
    assert all(len(c) == 2 and set(c) <= set(ALPHABET) for c in CATEGORIES)
    assert {"91", "92", "93", "11", "12", "51", "52", "53", "N1", "N2", "N3", "Y1"} <= set(CATEGORIES)
