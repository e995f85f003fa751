"""Which pages the investigators captured: dark-web boards and paste sites posting the groups' invite links (in
every disguise), some holding images of known material's benign stand-ins, plus links to groups that are not in
the case and decoys that must not be taken for links."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from ringtrace.indicators.extract import onion_v3_address
from ringtrace.synth.formats.captures import LANGUAGES, STYLES, LinkSpec, PageSpec, random_code
from ringtrace.synth.images import variant_bytes
from ringtrace.synth.world import World


def plan_pages(world: World, rng: random.Random) -> tuple[list[PageSpec], list[dict[str, Any]]]:
    n = world.scale.pages
    boards = [onion_v3_address(rng.randbytes(32)) for _ in range(max(2, n // 25))]
    wa_codes: list[tuple[str, str, Any]] = []  # (code, group key, current from)
    for g in sorted(world.groups.values(), key=lambda g: g.gid):
        if g.platform == "whatsapp":
            wa_codes.extend((c, g.key, t) for t, c in g.codes)
    outside = [LinkSpec(k, random_code(rng, k)) for k in ("whatsapp", "telegram", "signal", "discord")]
    tg_codes = [LinkSpec("telegram", random_code(rng, "telegram")) for _ in range(2)]
    known = sorted(world.known_families)
    pages: list[PageSpec] = []
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    style = 0
    for i in range(n):
        code, gkey, t = wa_codes[i % len(wa_codes)]
        links = [LinkSpec("whatsapp", code, STYLES[style % len(STYLES)])]
        style += 1
        expected[("whatsapp", code)] = {"platform": "whatsapp", "code": code, "group_key": gkey}
        if i % 4 == 0:
            extra = outside[(i // 4) % len(outside)] if i % 8 == 0 else tg_codes[(i // 4) % len(tg_codes)]
            links.append(LinkSpec(extra.kind, extra.code, STYLES[style % len(STYLES)]))
            style += 1
            if extra.kind != "signal":
                expected[(extra.kind, extra.code)] = {"platform": extra.kind, "code": extra.code, "group_key": None}
            else:
                from ringtrace.indicators.extract import signal_fingerprint

                fp = signal_fingerprint(extra.code)
                expected[("signal", fp)] = {"platform": "signal", "code": fp, "group_key": None}
        images = []
        if known and i % 6 == 1:  # a board that also posts a sample image
            images.append(variant_bytes(known[i % len(known)], None, 0))
        if i % 3 == 0:
            uri = f"http://{boards[i % len(boards)]}/thread/{1000 + i}"
        else:
            uri = f"https://paste{i % 5}.example/raw/{rng.randrange(10**6):06d}"
        lang = LANGUAGES[i % len(LANGUAGES)]
        pages.append(PageSpec(uri=uri, captured_at=t + timedelta(hours=rng.randrange(1, 240)), language=lang,
                              title=f"board {i}", links=links, decoys=(i % 2 == 0), images=images))
    return pages, [expected[k] for k in sorted(expected)]
