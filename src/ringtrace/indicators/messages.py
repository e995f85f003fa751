"""Indicators in chat messages: a link shared in a group is a lead like a link on a page."""

from __future__ import annotations

import re

from ringtrace.indicators.extract import extract_indicators
from ringtrace.model import Indicator, Message

MAX_MESSAGE_SCAN = 64 * 1024
# cheap gate: most chatter has no dot, slash, at-sign or '+digit', and then cannot hold an indicator
_LINKISH = re.compile(r"[./@]\S|\+\d")


def message_indicators(msg: Message, region: str | None = None) -> list[Indicator]:
    if not msg.text or not _LINKISH.search(msg.text):
        return []
    return [
        Indicator(kind=f.kind, value=f.value, raw=f.raw, context=f.context, prov=msg.prov, platform=f.platform,
                  code=f.code, secret=f.secret, at=msg.at)
        for f in extract_indicators(msg.text[:MAX_MESSAGE_SCAN], region=region)
    ]
