"""`python -m store account …`: what the command prints, exactly."""

from __future__ import annotations

from store.cli import main as store_cli


def test_account_list_shows_every_kind_of_scope(store_url, capsys):
    """A street-scoped account is not "all": the list names its streets as `set-scope` takes them."""
    db = ["--db", store_url]
    for args in (["whole", "--role", "admin"],
                 ["xihu", "--role", "staff", "--districts", "330106,330102"],
                 ["xixi", "--role", "leader", "--streets", "330106:西溪街道", "330106:北山街道"],
                 ["mixed", "--role", "staff", "--districts", "330113", "--streets", "330106:西溪街道"]):
        assert store_cli([*db, "account", "add", *args, "--password", "a-long-password"]) == 0
    assert store_cli([*db, "account", "disable", "xixi"]) == 0
    capsys.readouterr()

    assert store_cli([*db, "account", "list"]) == 0
    assert capsys.readouterr().out == (
        "mixed\tstaff\t330113,330106:西溪街道\t\n"
        "whole\tadmin\t全部 all\t\n"
        "xihu\tstaff\t330106,330102\t\n"
        "xixi\tleader\t330106:西溪街道,330106:北山街道\t停用 disabled\n"
    )


def test_set_scope_prints_the_scope_as_list_does(store_url, capsys):
    db = ["--db", store_url]
    assert store_cli([*db, "account", "add", "wang", "--role", "staff", "--password", "a-long-password"]) == 0
    capsys.readouterr()
    assert store_cli([*db, "account", "set-scope", "wang", "--streets", "330106:西溪街道"]) == 0
    assert capsys.readouterr().out == "wang: 330106:西溪街道\n"
    assert store_cli([*db, "account", "set-scope", "wang"]) == 0
    assert capsys.readouterr().out == "wang: 全部 all\n"
