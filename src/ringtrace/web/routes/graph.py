"""The network graph: the page (cytoscape, vendored at build time), its JSON and a server-side GraphML download."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ringtrace.web.deps import CaseDep
from ringtrace.web.graph import graph_doc
from ringtrace.web.state import HERE, render

router = APIRouter()

VENDOR_JS = HERE / "static" / "vendor" / "cytoscape.min.js"


@router.get("/cases/{cid}/graph", response_class=HTMLResponse)
def graph_page(request: Request, gc: CaseDep, country: str = "", group: str = "") -> Response:
    p = gc.view("graph")
    g = graph_doc(p.case, p.data, country, group)
    return render(request, "graph.html", p.ctx("graph", g=g, vendored=VENDOR_JS.is_file()))


@router.get("/cases/{cid}/graph.json")
def graph_json(gc: CaseDep, country: str = "", group: str = "") -> Response:
    p = gc.view("graph.json")
    return JSONResponse(graph_doc(p.case, p.data, country, group))


@router.get("/cases/{cid}/graph.graphml")
def graph_graphml(gc: CaseDep) -> Response:
    from ringtrace.analysis.graph import export_graphml

    p = gc.view("graph.graphml")
    with tempfile.TemporaryDirectory(prefix="ringtrace-graphml-") as tmp:
        out = export_graphml(p.case, Path(tmp) / "network.graphml")
        body = out.read_bytes()
    return Response(body, media_type="application/graphml+xml",
                    headers={"Content-Disposition": f'attachment; filename="case-{gc.entry.id}-network.graphml"'})
