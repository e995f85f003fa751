"""The app's pages, one ``APIRouter`` per area; ``ROUTERS`` is the order ``create_app`` includes them in."""

from __future__ import annotations

from fastapi import APIRouter

from ringtrace.web.routes import (
    admin,
    audit,
    cases,
    chats,
    decisions,
    graph,
    groups,
    leads,
    media,
    notes,
    packages,
    persons,
    search,
    session,
    timeline,
    victims,
)

ROUTERS: tuple[APIRouter, ...] = (session.router, admin.router, cases.router, persons.router, groups.router,
                                  media.router, notes.router, leads.router, audit.router, chats.router,
                                  search.router, timeline.router, graph.router,
                                  decisions.router, packages.router, victims.router)
