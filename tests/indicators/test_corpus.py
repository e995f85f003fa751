"""Table-driven corpus for indicator extraction: true links in every disguise, look-alikes that must not match.

Each case: (id, input, expected set of (kind, value)) for the kinds listed in ``KINDS`` (urls are checked
separately, so a case lists only the indicators it is about). HTML inputs go through ``html_text`` first.
"""

from __future__ import annotations

import pytest

from ringtrace.indicators.extract import extract_indicators, onion_v3_address, signal_fingerprint
from ringtrace.indicators.normalize import html_text

WA = "AbCdEfGhIjKlMnOpQrStUv"  # 22 base62
WA_V = f"chat.whatsapp.com/{WA}"
TG = "Xy9_abCDefGH-12Z"  # 16 base64url
TG_V = f"t.me/+{TG}"
SIG = "CjQKIBp7Y5xZ0aQwErTyUiOpAsDfGhJkLzXcVbNm1234EiB9abcdefghijklmnopqrstuvwxyz012345678"
ONION = onion_v3_address(bytes(range(32)))
BAD_ONION = "b" + ONION[1:]
SESSION = "05" + "0123456789abcdef" * 4
PHONE_ES = "+34612345678"

W = ("whatsapp_invite", WA_V)
T = ("telegram_invite", TG_V)

CASES: list[tuple[str, str, set[tuple[str, str]]]] = [
    # --- WhatsApp invites in every disguise
    ("wa_plain", f"join {WA_V} now", {W}),
    ("wa_https", f"https://{WA_V}", {W}),
    ("wa_www", f"https://www.chat.whatsapp.com/{WA}", {W}),
    ("wa_legacy_invite", f"https://chat.whatsapp.com/invite/{WA}", {W}),
    ("wa_upper_host", f"HTTPS://CHAT.WHATSAPP.COM/{WA}", {W}),
    ("wa_defang", f"hxxps[:]//chat[.]whatsapp[.]com/{WA}", {W}),
    ("wa_defang_paren", f"hxxp://chat(.)whatsapp(.)com/{WA}", {W}),
    ("wa_dot_words", f"chat(dot)whatsapp(dot)com/{WA}", {W}),
    ("wa_dot_brackets", f"chat[dot]whatsapp[dot]com/{WA}", {W}),
    ("wa_dot_spelled", f"chat dot whatsapp dot com/{WA}", {W}),
    ("wa_spaced", f"chat . whatsapp . com / {WA}", {W}),
    ("wa_space_one_side", f"chat.whatsapp. com/{WA}", {W}),
    ("wa_entities", f"chat&#46;whatsapp&#x2e;com&#47;{WA}", {W}),
    ("wa_named_entities", f"chat&period;whatsapp&period;com&sol;{WA}", {W}),
    ("wa_percent", f"https%3A%2F%2Fchat.whatsapp.com%2F{WA}", {W}),
    ("wa_redirect_double", f"https://redir.example/?u=https%253A%252F%252Fchat.whatsapp.com%252F{WA}", {W}),
    ("wa_redirect_triple", f"https://r.example/?u=https%25253A%25252F%25252Fchat.whatsapp.com%25252F{WA}", {W}),
    ("wa_zero_width", f"chat\u200b.what\u200dsapp\u2060.com/{WA}", {W}),
    ("wa_bidi", f"\u202echat.whatsapp.com\u202c/{WA}", {W}),
    ("wa_fullwidth", f"ｃｈａｔ．ｗｈａｔｓａｐｐ．ｃｏｍ/{WA}", {W}),
    ("wa_split_line", f"chat.whatsapp.com/\n{WA}", {W}),
    ("wa_split_crlf_indent", f"chat.whatsapp.com/\r\n   {WA}", {W}),
    ("wa_code_20", "chat.whatsapp.com/" + WA[:20], {("whatsapp_invite", "chat.whatsapp.com/" + WA[:20])}),
    ("wa_code_24", "chat.whatsapp.com/" + WA + "ab", {("whatsapp_invite", "chat.whatsapp.com/" + WA + "ab")}),
    ("wa_query", f"https://{WA_V}?mode=ac_t", {W}),
    ("wa_app_scheme", f"whatsapp://chat?code={WA}", {W}),
    ("wa_html_split_tags", f"<p>chat.whatsapp<b></b>.com/{WA[:9]}<span>{WA[9:]}</span></p>", {W}),
    ("wa_html_href", f'<a href="https://{WA_V}">click</a>', {W}),
    ("wa_html_data_attr", f'<div data-link="https://{WA_V}">x</div>', {W}),
    ("wa_html_onclick", f"<button onclick=\"location.href='https://{WA_V}'\">go</button>", {W}),
    ("wa_html_meta_refresh", f'<head><meta http-equiv="refresh" content="0; url=https://{WA_V}"></head>', {W}),
    ("wa_html_script", f'<script>var u = "https://{WA_V}";</script>', {W}),
    ("wa_html_br", f"<p>chat.whatsapp.com/<br>{WA}</p>", {W}),
    ("wa_html_entity_text", f"<p>chat&#46;whatsapp&#46;com/{WA}</p>", {W}),
    # --- WhatsApp phones and channels
    ("wa_me_phone", "https://wa.me/34612345678", {("whatsapp_phone", PHONE_ES)}),
    ("wa_me_plus", "wa.me/+34612345678?text=hola", {("whatsapp_phone", PHONE_ES)}),
    ("wa_api_send", "https://api.whatsapp.com/send?phone=34612345678&text=hi", {("whatsapp_phone", PHONE_ES)}),
    ("wa_api_send_second_param", "api.whatsapp.com/send/?text=hi&phone=34612345678", {("whatsapp_phone", PHONE_ES)}),
    (
        "wa_channel",
        "https://whatsapp.com/channel/0029VaAbCdEfGhIjKlMnOp12",
        {("whatsapp_channel", "whatsapp.com/channel/0029VaAbCdEfGhIjKlMnOp12")},
    ),
    # --- Telegram
    ("tg_plus", f"https://t.me/+{TG}", {T}),
    ("tg_joinchat", f"t.me/joinchat/{TG}", {T}),
    ("tg_telegram_me", f"https://telegram.me/+{TG}", {T}),
    ("tg_telegram_dog", f"telegram.dog/joinchat/{TG}", {T}),
    ("tg_percent_plus", f"https://t.me/%2B{TG}", {T}),
    ("tg_space_plus", f"t.me/ +{TG}", {T}),
    ("tg_space_around_slash", f"t.me / +{TG}", {T}),
    ("tg_scheme", f"tg://join?invite={TG}", {T}),
    ("tg_defang", f"hxxps://t[.]me/+{TG}", {T}),
    ("tg_entities_plus", f"t.me/&plus;{TG}", {T}),
    ("tg_phone", "https://t.me/+34612345678", {("telegram_phone", PHONE_ES)}),
    ("tg_username", "follow t.me/Durov_News", {("telegram_username", "durov_news")}),
    ("tg_s_username", "https://t.me/s/somechannel", {("telegram_username", "somechannel")}),
    ("tg_resolve", "tg://resolve?domain=somechannel", {("telegram_username", "somechannel")}),
    ("tg_addlist", "t.me/addlist/AbCdEfGh1234", {("telegram_folder_invite", "t.me/addlist/AbCdEfGh1234")}),
    ("tg_share_reserved", "https://t.me/share/url?url=x", set()),
    ("tg_addstickers_reserved", "https://t.me/addstickers/CatPack", set()),
    # --- Signal, Discord, Session
    ("signal_group", f"https://signal.group/#{SIG}", {("signal_group", f"signal.group/#{SIG[:4]}…••••")}),
    ("signal_defang", f"signal[.]group/#{SIG}", {("signal_group", f"signal.group/#{SIG[:4]}…••••")}),
    ("discord_gg", "https://discord.gg/aBc123XyZ", {("discord_invite", "discord.gg/aBc123XyZ")}),
    ("discord_com", "discord.com/invite/aBc123XyZ", {("discord_invite", "discord.gg/aBc123XyZ")}),
    ("discordapp", "https://discordapp.com/invite/aBc123XyZ", {("discord_invite", "discord.gg/aBc123XyZ")}),
    ("session_id", f"my session: {SESSION}", {("session_id", SESSION)}),
    ("session_id_upper", f"{SESSION.upper()}", {("session_id", SESSION)}),
    (
        "session_open_group",
        "http://open.session.example/lobby?public_key=" + "a1" * 32,
        {("session_open_group", "http://open.session.example/lobby?public_key=" + "a1" * 32)},
    ),
    # --- phones, e-mail, onion
    ("phone_intl", "call +34 612 34 56 78 today", {("phone", PHONE_ES)}),
    ("phone_intl_dashes", "tel +55 11 98765-4321", {("phone", "+5511987654321")}),
    ("phone_national_without_region", "call 612 34 56 78", set()),
    ("email", "write to Ana.Perez@Example.ORG.", {("email", "ana.perez@example.org")}),
    ("email_defanged", "ana[.]perez@example[.]org", {("email", "ana.perez@example.org")}),
    ("onion_v3", f"mirror at {ONION}", {("onion", ONION)}),
    ("onion_v3_defanged", ONION.replace(".onion", "[.]onion"), {("onion", ONION)}),
    ("onion_v2", "old mirror expyuzz4wqqyqhjn.onion", {("onion_v2", "expyuzz4wqqyqhjn.onion")}),
    # --- decoys that must not match
    ("decoy_wa_suffix_host", f"chat.whatsapp.com.evil.example/{WA}", set()),
    ("decoy_wa_prefix_host", f"notchat.whatsapp.com/{WA}", set()),
    ("decoy_wa_short", "chat.whatsapp.com/AbCdEf123", set()),
    ("decoy_wa_long", f"chat.whatsapp.com/{WA}{WA}", set()),
    ("decoy_wa_me_text", "wa.me/contactus", set()),
    ("decoy_wa_me_invalid_number", "wa.me/12345", set()),
    ("decoy_tme_in_word", f"visit abt.me/+{TG} or start.me/profile", set()),
    ("decoy_tme_short_code", "t.me/+12ab", set()),
    ("decoy_tg_invalid_phone", "t.me/+1234567", set()),
    ("decoy_email_no_tld", "admin@localhost or root@intranet", set()),
    ("decoy_invalid_phone", "+1 555 0100 and +00 123 456", set()),
    ("decoy_onion_bad_checksum", f"see {BAD_ONION}", set()),
    ("decoy_signal_short", "signal.group/#short", set()),
    ("decoy_discord_empty", "discord.gg/ and friends", set()),
    ("decoy_session_short", "05" + "ab" * 20, set()),
    ("decoy_prose_dots", "The end. Next time . maybe", set()),
]
KINDS = {
    "whatsapp_invite", "whatsapp_phone", "whatsapp_channel", "telegram_invite", "telegram_phone",
    "telegram_username", "telegram_folder_invite", "signal_group", "discord_invite", "session_id",
    "session_open_group", "phone", "email", "onion", "onion_v2",
}  # fmt: skip


def _run(text: str) -> set[tuple[str, str]]:
    if text.lstrip().startswith("<"):
        text = html_text(text).text
    return {(f.kind, f.value) for f in extract_indicators(text) if f.kind in KINDS}


def test_corpus_size() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corpus(text: str, expected: set[tuple[str, str]]) -> None:
    assert _run(text) == expected


def test_codes_keep_case_and_raw_maps_back() -> None:
    text = f"xx hxxps[:]//chat[.]whatsapp[.]com/{WA} yy"
    (f,) = [f for f in extract_indicators(text) if f.kind == "whatsapp_invite"]
    assert f.code == WA and f.platform == "whatsapp"
    assert f.raw == f"hxxps[:]//chat[.]whatsapp[.]com/{WA}"
    assert text[f.start : f.end] == f.raw
    assert f.context == text.strip()


def test_signal_key_only_in_secret() -> None:
    text = f"group: https://signal.group/#{SIG} and again signal.group/#{SIG}"
    found = [f for f in extract_indicators(text) if f.kind == "signal_group"]
    assert len(found) == 2
    for f in found:
        assert f.secret == SIG and f.code == signal_fingerprint(SIG)
        for shown in (f.value, f.raw, f.context):
            assert SIG not in shown and SIG[:12] not in shown


def test_region_enables_national_numbers() -> None:
    found = extract_indicators("llama al 612 34 56 78", region="es")
    assert [(f.kind, f.value) for f in found] == [("phone", PHONE_ES)]


def test_base_uri_resolves_relative_attribute() -> None:
    found = extract_indicators(f"/+{TG}", base_uri="https://t.me/")
    assert [(f.kind, f.value) for f in found] == [T]


def test_urls_classified_and_platform_hosts_not_duplicated() -> None:
    text = f"see https://Paste.Example/raw/1, and https://{WA_V}"
    kinds = sorted((f.kind, f.value) for f in extract_indicators(text))
    assert kinds == [("url", "https://paste.example/raw/1"), W]


def test_window_boundary_link_found_once() -> None:
    from ringtrace.indicators import extract

    pad = "x " * ((extract.WINDOW - 10) // 2)
    text = pad + f"https://{WA_V} " + "y " * 100
    found = [f for f in extract_indicators(text) if f.kind == "whatsapp_invite"]
    assert len(found) == 1 and found[0].code == WA


def test_pathological_inputs_are_linear() -> None:
    import time

    nasty = [
        "a" * 2_000_000,
        "@" * 500_000 + "a." * 500_000,
        "%25" * 300_000,
        "chat.whatsapp.com/" * 50_000,
        "1 " * 500_000 + "+",
        "x." * 600_000,
    ]
    for text in nasty:
        t0 = time.monotonic()
        extract_indicators(text)
        assert time.monotonic() - t0 < 10, text[:20]
