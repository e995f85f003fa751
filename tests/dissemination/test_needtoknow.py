from typing import Any

from ringtrace.dissemination.needtoknow import Scrubber, leaks, tokens_of_account


def test_scrub_replaces_identifiers_on_boundaries_and_keeps_target_tokens() -> None:
    s = Scrubber({"Isaac": "X01 (IT)", "393121706690": "X02 (IT)", "Denise Ruddock": "X03 (FR)"},
                 keep=["Isaac Marrow"])
    out = s.scrub("Isaac Marrow met isaac; group 393121706690-1738816681@g.us; user393121706690; "
                  "DENISE RUDDOCK; 13931217066901 untouched")
    assert "Isaac Marrow" in out
    assert "[X01 (IT)]" in out and "isaac" not in out.replace("Isaac Marrow", "")
    assert "[X02 (IT)]-1738816681@g.us" in out and "user[X02 (IT)]" in out
    assert "[X03 (FR)]" in out
    assert "13931217066901" in out  # a longer number that merely contains the digits is another number


def test_scrub_obj_scrubs_values_not_keys() -> None:
    s = Scrubber({"Denise": "X01"}, keep=[])
    assert s.scrub_obj({"Denise": ["Denise", 3, None, {"k": "Denise x"}]}) == {
        "Denise": ["[X01]", 3, None, {"k": "[X01] x"}]}


def test_tokens_of_account_covers_jid_lid_scoped_names_usernames() -> None:
    assert tokens_of_account("phone", "+393121706690") >= {"+393121706690", "393121706690"}
    assert "803467527801918" in tokens_of_account("lid", "803467527801918@lid")
    assert "Denise Ruddock" in tokens_of_account("export_name", "S2:Denise Ruddock")
    assert {"@nick", "nick"} <= tokens_of_account("username", "@nick")
    assert tokens_of_account("name", "~") == set()


def test_leaks_ignores_kept_tokens_and_vocabulary() -> None:
    assert leaks("Isaac Marrow was here", ["Isaac"], ["Isaac Marrow"]) == []
    assert leaks("isaac was here", ["Isaac"], []) == ["Isaac"]
    assert leaks("the admin panel", ["Admin"], [], {"admin"}) == []


def test_scrubber_cache_gives_what_the_pattern_gives_and_stays_bounded(monkeypatch: Any) -> None:
    """A distinct short string is scrubbed once and remembered; the answer is the pattern's, every time, and the
    cache neither grows past its bound nor holds long strings."""
    from ringtrace.dissemination import needtoknow as ntk

    monkeypatch.setattr(ntk, "_CACHE_ITEMS", 3)
    sc = ntk.Scrubber({"Ana Lopez": "P-1", "+34600111222": "P-1", "Bob": "P-2"}, keep=["Bob"])
    texts = ["ana lopez wrote", "call +34600111222 now", "Bob and ANA LOPEZ", "nothing here", "x" * 300 + " Ana Lopez"]
    plain = [sc._re.sub(sc._sub, t) if sc._re else t for t in texts]
    assert [sc.scrub(t) for t in texts] == plain
    assert [sc.scrub(t) for t in texts] == plain  # second time from the cache
    assert plain[0] == "[P-1] wrote" and "Bob" in plain[2] and "[P-1]" in plain[2]
    assert len(sc._cache) == 3 and all(len(k) <= ntk._CACHE_LEN for k in sc._cache)
