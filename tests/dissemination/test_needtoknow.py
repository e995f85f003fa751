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


# characters where re.IGNORECASE is not str.lower(): long s, Kelvin, dotted/dotless i, sharp s, final sigma, micro,
# a combining mark that folds with iota, Arabic-Indic and full-width digits; and the boundary characters
_TRICKY = "aAbsSſkKKiIİıßẞσςΣµμͅιΙ19١１+@._- é"


def _flat(tokens: dict[str, str], keep: list[str]) -> Scrubber:
    """The same scrubber on the plain alternation (one alternative per token, longest first)."""
    import re

    from ringtrace.dissemination import needtoknow as ntk

    sc = Scrubber(tokens, keep)
    sc._re = re.compile(ntk._flat_pattern(sc.tokens), re.IGNORECASE) if sc.forbidden else None
    return sc


def test_trie_pattern_scrubs_as_the_flat_alternation_on_tricky_cases() -> None:
    cases = [
        ({"ann": "P1", "anna": "P2", "annabel": "P3"}, [], "Anna, annabel; hannah; ANN. annab"),
        ({"393121706690": "P1", "3931217066": "P2", "39312170669a": "P3"}, [],
         "user393121706690 3931217066x 39312170669A 139312170669"),
        ({"Sam": "P1", "+4412345": "P2", "@sam_k": "P3"}, ["Sam Kerr"], "ſam SAM Sam Kerr +4412345 @SAM_K x@sam_k"),
        ({"kim": "P1", "İsa": "P2", "ıSA": "P3", "σοφία": "P4"}, [], "KIM İSA isa ISA ΣΟΦΊΑ σοφίας ςοφία"),
        ({"Jo": "P1", "Jo Ann": "P2", "Ann": "P3"}, ["jo ann smith"], "Jo Ann Smith met jo ann and Jo, ann"),
    ]
    for forbidden, keep, text in cases:
        assert Scrubber(forbidden, keep).scrub(text) == _flat(forbidden, keep).scrub(text), (forbidden, text)
    assert Scrubber({"ann": "P1", "anna": "P2"}, []).scrub("anna ann annas") == "[P2] [P1] annas"


def test_trie_pattern_matches_flat_alternation_fuzzed() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    token = st.text(alphabet=_TRICKY.replace(" ", ""), min_size=1, max_size=5)
    words = st.lists(st.text(alphabet=_TRICKY, min_size=0, max_size=8), max_size=6)

    @settings(max_examples=600, deadline=None, database=None)
    @given(st.dictionaries(token, st.sampled_from(["P1", "P2"]), min_size=1, max_size=8),
           st.lists(token, max_size=3), words)
    def check(forbidden: dict[str, str], keep: list[str], parts: list[str]) -> None:
        # texts built from the tokens themselves, glued and cased differently, so that matches are common
        text = "".join(parts) + " " + " ".join(t.upper() + p for t, p in zip(forbidden, parts, strict=False)) + \
            "".join(keep) + " " + "".join(forbidden).swapcase()
        assert Scrubber(forbidden, keep).scrub(text) == _flat(forbidden, keep).scrub(text)

    check()


def test_scrubber_falls_back_to_the_flat_alternation_when_the_trie_is_too_deep() -> None:
    toks = {"a" * n: f"P{n}" for n in range(2, 1500)}  # each a prefix of the next: one nested group per token
    sc = Scrubber(toks, [])
    assert sc.scrub("x " + "A" * 40 + " y") == "x [P40] y"


def test_trie_pattern_case_sensitive_and_unbounded_match_the_flat_alternation_fuzzed() -> None:
    """The two other shapes the leak check uses: exact characters (on lower-cased text), and plain substrings."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ringtrace.dissemination import needtoknow as ntk

    token = st.text(alphabet=_TRICKY.replace(" ", ""), min_size=1, max_size=5)

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.lists(token, min_size=1, max_size=8, unique=True), st.text(alphabet=_TRICKY, max_size=30),
           st.booleans())
    def check(tokens: list[str], filler: str, bounded: bool) -> None:
        text = filler + " " + "".join(tokens) + " " + " ".join(tokens) + filler.join(tokens)
        trie = re.compile(ntk._trie_pattern(sorted(tokens), ignorecase=False, bounded=bounded))
        flat = re.compile(ntk._flat_pattern(tokens, bounded=bounded))
        assert trie.sub("<\\g<0>>", text) == flat.sub("<\\g<0>>", text)

    check()


def _leaks_per_token(text: str, forbidden: list[str], keep: str) -> list[str]:
    """What a leak is, the slow way: the kept token cut out of the lower-cased text, then each forbidden token
    searched on its boundaries, one at a time."""
    import re

    from ringtrace.dissemination import needtoknow as ntk

    low = text.lower()
    if ntk._alnum(keep) >= ntk._MIN_ALNUM:
        low = low.replace(keep.lower(), "\x00")
    return sorted({t for t in forbidden if ntk._alnum(t) >= ntk._MIN_ALNUM
                   and re.search(ntk._flat_pattern([t.lower()]), low)})


def test_leak_check_finds_a_leak_exactly_when_a_per_token_search_does_fuzzed() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    token = st.text(alphabet="abAB1_. ", min_size=1, max_size=4)

    @settings(max_examples=500, deadline=None, database=None)
    @given(st.lists(token, min_size=1, max_size=6, unique=True), token, st.lists(token, max_size=8))
    def check(forbidden: list[str], keep: str, parts: list[str]) -> None:
        text = "".join(parts) + " " + " ".join(parts) + keep.upper() + "".join(forbidden)
        slow = _leaks_per_token(text, forbidden, keep)
        fast = leaks(text, forbidden, [keep])
        assert bool(fast) == bool(slow) and set(fast) <= set(slow), (text, slow, fast)

    check()


def test_leak_check_is_built_once_for_many_files() -> None:
    from ringtrace.dissemination.needtoknow import LeakCheck

    check = LeakCheck(["Denise", "393121706690", "Ruddock"], ["Isaac Marrow"], {"admin"})
    assert check.find("isaac marrow and DENISE") == ["Denise"]
    assert check.find("user393121706690 x") == ["393121706690"]
    assert check.find("13931217066901 Isaac Marrow") == []
    assert check.find("denise ruddock") == ["Denise", "Ruddock"]
    assert LeakCheck(["Admin"], [], {"admin"}).find("Admin") == []
