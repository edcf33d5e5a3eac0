"""Signed tokens: purpose-bound, versioned, expiring, unforgeable, short."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store import tokens

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
TODAY = dt.date(2026, 12, 5)
LAST_DAY = dt.date(2027, 1, 4)


def test_a_token_gives_back_its_claim():
    token = tokens.sign(KEY, "profile", 123456, 3, LAST_DAY)
    claim = tokens.check(KEY, token, "profile", today=TODAY)
    assert claim == tokens.Claim("profile", 123456, 3, LAST_DAY)
    assert len(token) <= 45 and "123456" not in token  # short, and no plain ids in the URL


def test_valid_through_its_last_day_not_after():
    token = tokens.sign(KEY, "pass", 7, 0, LAST_DAY)
    assert tokens.check(KEY, token, "pass", today=LAST_DAY).subject == 7
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.check(KEY, token, "pass", today=LAST_DAY + dt.timedelta(days=1))
    assert refused.value.reason == "expired" and "过期" in str(refused.value)


def test_another_purpose_is_refused_as_forged():
    token = tokens.sign(KEY, "pass", 7, 0, LAST_DAY)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.check(KEY, token, "profile", today=TODAY)
    assert refused.value.reason == "forged"
    # Relabelling the purpose in the text does not help: the signature is bound to it.
    relabelled = "profile" + token[len("pass"):]
    with pytest.raises(tokens.TokenRefused):
        tokens.check(KEY, relabelled, "profile", today=TODAY)


def test_another_key_is_refused():
    token = tokens.sign(OTHER_KEY, "profile", 1, 0, LAST_DAY)
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.check(KEY, token, "profile", today=TODAY)
    assert refused.value.reason == "forged"


@pytest.mark.parametrize("token", ["", "x", "profile.1.0.1", "profile.1.0.1.!!!!!!!!!!!!!!!!", "a" * 200, None,
                                   "profile.1.0.1.AAAAAAAAAAAAAAAA\n", "<script>.1.0.1.AAAAAAAAAAAAAAAA"])
def test_malformed_tokens(token):
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.check(KEY, token, "profile", today=TODAY)
    assert refused.value.reason == "malformed"


@given(subject=st.integers(0, 10**12), version=st.integers(0, 10**6), days=st.integers(0, 20000),
       position=st.integers(0, 40), char=st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyzABCDEF-_"))
def test_any_changed_character_is_refused(subject, version, days, position, char):
    expires = tokens.EPOCH + dt.timedelta(days=days)
    token = tokens.sign(KEY, "profile", subject, version, expires)
    i = position % len(token)
    if token[i] == char or token[i] == ".":
        return
    tampered = token[:i] + char + token[i + 1:]
    with pytest.raises(tokens.TokenRefused):
        tokens.check(KEY, tampered, "profile", today=tokens.EPOCH)


def test_the_store_key_is_made_once_and_shared(engine):
    first = tokens.store_key(engine)
    assert len(first) == 32 and tokens.store_key(engine) == first
    token = tokens.issue(engine, "profile", 5, 1, LAST_DAY)
    assert tokens.verify(engine, token, "profile", today=TODAY).version == 1


def test_purpose_must_be_a_short_word():
    with pytest.raises(ValueError):
        tokens.sign(KEY, "Profile Link", 1, 0, LAST_DAY)
