"""A person typed into a form: the import's normalising and validation, and the identity cascade."""

from __future__ import annotations

import datetime as dt

from loaders.normalise import id_check_digit
from loaders.person_form import check_person, form_text, likely_duplicates
from loaders.reference import load_reference
from store import changes as ch


def valid_id(first17: str = "33010619861005348") -> str:
    return first17 + id_check_digit(first17)


def test_the_form_is_normalised_as_an_import_row_is():
    checked = check_person({"name": " 张三 ", "id_number": valid_id(), "phone": "138 0000 0000",
                            "category": "无党派人士", "district": "西湖区", "stage": "培养", "tags": "海归、专家"})
    assert checked.ok, checked.problems
    assert checked.values["name"] == "张三"
    assert checked.values["phone"] == "13800000000"
    assert checked.values["category_code"] == "non_party"
    assert checked.values["district_code"] == "330106"
    assert checked.values["stage"] == "cultivate"
    assert checked.values["birth_date"] == dt.date(1986, 10, 5)  # taken from the ID number
    assert checked.tags == ("海归", "专家")


def test_every_code_shows_as_a_name_that_reads_back_as_the_code():
    ref = load_reference()
    stored = {"gender": ["M", "F"], "category": list(ref.category_names), "district": list(ref.district_names),
              "party": list(ref.party_names)}
    for field_name, codes in stored.items():
        column = {"category": "category_code", "district": "district_code"}.get(field_name, field_name)
        for code in codes:
            shown = form_text(field_name, code)
            assert shown != code
            checked = check_person({"name": "张三", "phone": "13800000000", "category": "无党派人士", field_name: shown})
            assert checked.ok and checked.values[column] == code, (shown, checked.problems, checked.warnings)


def test_a_15_digit_id_becomes_18_digits():
    checked = check_person({"name": "张三", "id_number": "330106861005348", "category": "其他需要联系和团结的人员"})
    assert checked.ok, checked.problems
    assert checked.values["id_number"] == valid_id("33010619861005348")


def test_bad_values_are_refused_with_the_import_messages():
    wrong_digit = valid_id()[:-1] + ("0" if valid_id()[-1] != "0" else "1")
    checked = check_person({"name": "张三", "id_number": wrong_digit, "category": "统战"})
    assert not checked.ok
    text = " ".join(msg for _, msg in checked.problems)
    assert "校验位不符" in text and "check digit" in text
    assert "无法识别" in text and "unknown category" in text


def test_a_likely_duplicate_is_found_by_the_cascade(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = cs.add_person(dict(name="张三", phone="13800000000", category_code="non_party", district_code="330106"))
    same_mobile = check_person({"name": "张三", "phone": "13800000000", "category": "无党派人士"})
    assert likely_duplicates(engine, same_mobile) == [pid]
    other = check_person({"name": "张三", "phone": "13900000000", "category": "无党派人士"})
    assert likely_duplicates(engine, other) == []
