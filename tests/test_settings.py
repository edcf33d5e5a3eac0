"""Settings: one registry, documented, with the documented precedence."""

from pathlib import Path

from store.settings import SETTINGS, get_setting

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_readme():
    undocumented = [s.name for s in SETTINGS if f"`{s.name}`" not in README]
    assert not undocumented, f"README lacks settings {undocumented}"


def test_environment_overrides_default_with_the_default_type():
    assert get_setting("privacy_threshold", env={}) == 5
    assert get_setting("privacy_threshold", env={"BRAIN_PRIVACY_THRESHOLD": "10"}) == 10
    assert get_setting("require_login", env={"BRAIN_REQUIRE_LOGIN": "off"}) is False
