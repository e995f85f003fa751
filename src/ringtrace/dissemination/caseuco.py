"""CASE/UCO JSON-LD (CASE 1.5.0 / UCO 1.5.0, validated with case_validate from case-utils 0.18.0).

Mapping (docs/dissemination.md): the case is an ``investigation:Investigation``; each exhibit is a
``investigation:ProvenanceRecord`` (exhibit number) over an ``observable:File`` (container hashes) produced by an
``investigation:InvestigativeAction`` (intake); persons are ``identity:Person``; phone accounts
``observable:PhoneAccount`` (PhoneAccountFacet + AccountFacet), other accounts ``observable:ApplicationAccount``
(ApplicationAccountFacet + AccountFacet); groups are ``observable:MessageThread``; messages ``observable:Message``;
known-material media ``observable:File`` with a ContentDataFacet holding ``types:Hash`` values; invite links and
the pages they were posted on ``observable:URL``. Links are ``core:Relationship`` (Has_Account, Member_Of,
Contained_Within, Attached_To, Invites_To, Posted_On). Every node IRI ends in a UUIDv5 so the same case gives the
same graph and UCO's identifier shape is met.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ringtrace import TOOL

CONTEXT = {
    "kb": "http://example.org/kb/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_NS = uuid.UUID("6f1c7f64-3a55-5b2e-9a49-6b0b8c1d2e01")
_HASHES = (("sha256", "SHA256"), ("md5", "MD5"), ("sha1", "SHA1"))

# our own fixed words in the graph (class names, relationship kinds): see package.check_need_to_know
VOCABULARY_TEXT = " ".join([*CONTEXT, "Investigation InvestigativeAction ProvenanceRecord Person PhoneAccount "
                            "ApplicationAccount AccountFacet PhoneAccountFacet ApplicationAccountFacet Application "
                            "MessageThread MessageThreadFacet Message MessageFacet File FileFacet ContentDataFacet "
                            "Hash HashNameVocab URL URLFacet Relationship Tool Has_Account Member_Of "
                            "Contained_Within Attached_To Invites_To Posted_On Sent intake of exhibit "
                            "referral package known material category hashset entry group country attributed "
                            "pseudonym member"])




def _dt(s: str | None) -> dict[str, str] | None:
    return {"@type": "xsd:dateTime", "@value": s} if s else None


class Graph:
    def __init__(self, salt: str) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.salt = salt  # per graph, so two graphs (a package, the whole case) never share node IRIs

    def iri(self, kind: str, key: str) -> str:
        return f"kb:{kind}-{uuid.uuid5(_NS, self.salt + chr(30) + kind + chr(31) + key)}"

    def add(self, node: dict[str, Any]) -> str:
        node = {k: v for k, v in node.items() if v is not None and v != []}
        if node["@id"] not in self.nodes:
            self.nodes[node["@id"]] = node
        return str(node["@id"])

    def rel(self, src: str, dst: str, kind: str, start: str | None = None, end: str | None = None,
            description: str | None = None) -> str:
        return self.add({"@id": self.iri("Relationship", f"{src}|{dst}|{kind}|{start}|{end}"),
                         "@type": "uco-core:Relationship", "uco-core:source": {"@id": src},
                         "uco-core:target": {"@id": dst}, "uco-core:kindOfRelationship": kind,
                         "uco-core:isDirectional": True, "uco-core:startTime": _dt(start),
                         "uco-core:endTime": _dt(end), "uco-core:description": description})

    def file(self, key: str, hashes: Mapping[str, Any], size: int | None, name: str | None = None,
             description: str | None = None) -> str:
        fid = self.iri("File", key)
        hash_nodes = []
        for field, method in _HASHES:
            v = hashes.get(field)
            if v:
                hash_nodes.append({"@id": self.iri("Hash", f"{key}|{method}"), "@type": "uco-types:Hash",
                                   "uco-types:hashMethod": method,
                                   "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": v.upper()}})
        content: dict[str, Any] = {"@id": self.iri("ContentDataFacet", key),
                                   "@type": "uco-observable:ContentDataFacet", "uco-observable:hash": hash_nodes}
        if size is not None:
            content["uco-observable:sizeInBytes"] = {"@type": "xsd:integer", "@value": int(size)}
        facets: list[dict[str, Any]] = [content]
        if name:
            facets.append({"@id": self.iri("FileFacet", key), "@type": "uco-observable:FileFacet",
                           "uco-observable:fileName": name})
        return self.add({"@id": fid, "@type": "uco-observable:File", "uco-core:hasFacet": facets,
                         "uco-core:description": description})

    def jsonld(self) -> dict[str, Any]:
        return {"@context": CONTEXT, "@graph": [self.nodes[k] for k in sorted(self.nodes)]}


def _application(g: Graph, platform: str) -> str:
    return g.add({"@id": g.iri("Application", platform), "@type": "uco-observable:Application",
                  "uco-core:name": platform})


def _account(g: Graph, platform: str, kind: str, value: str) -> str:
    key = f"{platform}|{kind}|{value}"
    acc_facet = {"@id": g.iri("AccountFacet", key), "@type": "uco-observable:AccountFacet",
                 "uco-observable:accountIdentifier": value}
    if kind == "phone":
        return g.add({"@id": g.iri("PhoneAccount", key), "@type": "uco-observable:PhoneAccount",
                      "uco-core:hasFacet": [acc_facet, {"@id": g.iri("PhoneAccountFacet", key),
                                                        "@type": "uco-observable:PhoneAccountFacet",
                                                        "uco-observable:phoneNumber": value}]})
    app = _application(g, platform)
    return g.add({"@id": g.iri("ApplicationAccount", key), "@type": "uco-observable:ApplicationAccount",
                  "uco-core:hasFacet": [acc_facet, {"@id": g.iri("ApplicationAccountFacet", key),
                                                    "@type": "uco-observable:ApplicationAccountFacet",
                                                    "uco-observable:application": {"@id": app}}]})


def _person(g: Graph, ref: str, description: str | None) -> str:
    return g.add({"@id": g.iri("Person", ref), "@type": "uco-identity:Person", "uco-core:name": ref,
                  "uco-core:description": description})


def build_graph(case_name: str, sources: Sequence[Mapping[str, Any]], persons: Sequence[Mapping[str, Any]],
                pseudonyms: Sequence[Mapping[str, Any]], groups: Sequence[Mapping[str, Any]],
                messages: Sequence[Mapping[str, Any]], media: Sequence[Mapping[str, Any]],
                links: Sequence[Mapping[str, Any]], focus: str) -> dict[str, Any]:
    """Neutral builder used by both the package graph and the whole-case export (see their adapters)."""
    g = Graph(f"{case_name}|{focus}")
    tool = g.add({"@id": g.iri("Tool", TOOL), "@type": "uco-tool:Tool", "uco-core:name": TOOL})
    objects: list[str] = []
    for s in sources:
        f = g.file(f"source|{s['exhibit']}", {"sha256": s.get("sha256"), "md5": s.get("md5")}, s.get("size"),
                   description=f"exhibit {s['exhibit']} ({s.get('kind')}, {s.get('files')} files)")
        pr = g.add({"@id": g.iri("ProvenanceRecord", s["exhibit"]), "@type": "case-investigation:ProvenanceRecord",
                    "case-investigation:exhibitNumber": s["exhibit"], "uco-core:object": [{"@id": f}],
                    "uco-core:description": f"examiner: {s.get('examiner') or 'not recorded'}"})
        act = g.add({"@id": g.iri("InvestigativeAction", s["exhibit"]),
                     "@type": "case-investigation:InvestigativeAction",
                     "uco-core:name": f"intake of exhibit {s['exhibit']}",
                     "uco-action:startTime": _dt(s.get("ingested_at")), "uco-action:instrument": {"@id": tool},
                     "uco-action:object": [{"@id": f}], "uco-action:result": [{"@id": pr}]})
        objects += [pr, act]
    person_iri: dict[str, str] = {}
    for p in persons:
        pid = _person(g, p["id"], f"attributed to {p.get('country') or 'no country'}: "
                      f"{p.get('country_basis') or ''}; names seen: {', '.join(p.get('names', []))}")
        person_iri[p["id"]] = pid
        objects.append(pid)
        for a in p.get("accounts", []):
            aid = _account(g, a["platform"], a["kind"], a["value"])
            objects += [aid, g.rel(pid, aid, "Has_Account")]
    for x in pseudonyms:
        pid = _person(g, x["ref"], f"pseudonym: another person in the case, attributed to "
                      f"{x.get('attributed_to') or 'no country'}; identity withheld")
        person_iri[x["ref"]] = pid
        objects.append(pid)
    thread_iri: dict[str, str] = {}
    for grp in groups:
        tid = g.iri("MessageThread", grp["id"])
        parts = [person_iri[m["person"]] for m in grp.get("members", []) if m["person"] in person_iri]
        names = "; ".join(n["name"] for n in grp.get("names", []))
        g.add({"@id": tid, "@type": "uco-observable:MessageThread", "uco-core:name": grp["id"],
               "uco-core:description": f"{grp.get('platform')} group; names: {names}",
               "uco-core:hasFacet": [{"@id": g.iri("MessageThreadFacet", grp["id"]),
                                      "@type": "uco-observable:MessageThreadFacet"}]})
        thread_iri[grp["id"]] = tid
        objects.append(tid)
        for m, pid in zip([m for m in grp.get("members", []) if m["person"] in person_iri], parts, strict=True):
            for iv in m.get("intervals", []) or [{"from": None, "to": None}]:
                objects.append(g.rel(pid, tid, "Member_Of", iv.get("from"), iv.get("to")))
    msg_iri: dict[str, str] = {}
    for i, m in enumerate(messages):
        key = f"{m.get('group')}|{m.get('at')}|{m.get('sender')}|{i}"
        mid = g.iri("Message", key)
        facet = {"@id": g.iri("MessageFacet", key), "@type": "uco-observable:MessageFacet",
                 "uco-observable:messageText": m.get("text") or None, "uco-observable:sentTime": _dt(m.get("at")),
                 "uco-observable:messageType": m.get("kind")}
        g.add({"@id": mid, "@type": "uco-observable:Message",
               "uco-core:hasFacet": [{k: v for k, v in facet.items() if v is not None}]})
        objects.append(mid)
        if m.get("sender") in person_iri:
            objects.append(g.rel(person_iri[m["sender"]], mid, "Sent"))
        if m.get("group") in thread_iri:
            objects.append(g.rel(mid, thread_iri[m["group"]], "Contained_Within", m.get("at")))
        for sha in m.get("media", []):
            msg_iri.setdefault(sha, mid)
            objects.append(g.rel(g.iri("File", f"media|{sha}"), mid, "Attached_To"))
    for md in media:
        cats = ", ".join(sorted({f"{x.get('hashset')}:{x.get('entry')} category {x.get('category')}"
                                 for x in md.get("matches", [])}))
        objects.append(g.file(f"media|{md['sha256']}", md, md.get("size"),
                              description=f"known material: {cats}" if cats else None))
    for ln in links:
        uid = g.add({"@id": g.iri("URL", ln["url"]), "@type": "uco-observable:URL",
                     "uco-core:hasFacet": [{"@id": g.iri("URLFacet", ln["url"]), "@type": "uco-observable:URLFacet",
                                            "uco-observable:fullValue": ln["url"]}]})
        objects.append(uid)
        if ln.get("group") in thread_iri:
            objects.append(g.rel(uid, thread_iri[ln["group"]], "Invites_To"))
        for s in ln.get("seen", []):
            if s.get("page"):
                page = g.add({"@id": g.iri("URL", s["page"]), "@type": "uco-observable:URL",
                              "uco-core:hasFacet": [{"@id": g.iri("URLFacet", s["page"]),
                                                     "@type": "uco-observable:URLFacet",
                                                     "uco-observable:fullValue": s["page"]}]})
                objects += [page, g.rel(uid, page, "Posted_On", s.get("at"))]
    # Relationship ids are referenced for files attached to messages before the file node exists: make sure
    # each referenced file node is present (a message can name media the case never saw)
    for sha in msg_iri:
        g.file(f"media|{sha}", {"sha256": sha}, None)
    g.add({"@id": g.iri("Investigation", case_name), "@type": "case-investigation:Investigation",
           "uco-core:name": case_name, "case-investigation:focus": focus,
           "uco-core:object": [{"@id": o} for o in sorted(set(objects))]})
    return g.jsonld()


def package_graph(doc: dict[str, Any]) -> dict[str, Any]:
    """The graph of a (scrubbed) package document: only what the package itself holds."""
    media: dict[str, dict[str, Any]] = {}
    for x in doc["matches"]:
        m = media.setdefault(x["sha256"], {"sha256": x["sha256"], "md5": x["md5"], "sha1": x["sha1"],
                                           "size": x.get("size"), "matches": []})
        m["matches"].append(x)
    msgs = [m for m in doc["messages"] if m["kind"] == "message"]
    return build_graph(f"{doc['case']} / referral package {doc['country']} v{doc['version']}", doc["sources"],
                       doc["persons"], doc["pseudonyms"], doc["groups"], msgs, list(media.values()),
                       doc["invite_links"], focus=f"referral package for {doc['country']}")


def write_jsonld(graph: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(graph, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return out


def case_graph(case: Any, with_messages: bool = True) -> dict[str, Any]:
    from ringtrace.dissemination.export import build_export

    exp = build_export(case, with_messages=with_messages)
    msgs = [{"group": m["chat"].get("group"), "at": m["at"], "sender": m["sender"], "text": m["text"],
             "media": m["media"], "kind": m["kind"]}
            for m in exp.get("messages", []) if m["kind"] == "message"]
    media = [m for m in exp["media"] if m["matches"]]
    return build_graph(exp["case"], exp["sources"], exp["persons"], [], exp["groups"], msgs, media,
                       exp["invite_links"], focus="whole case")


def write_case_export(case: Any, out: Path, with_messages: bool = True) -> Path:
    """``ringtrace export CASE --format case --out F``: the whole case as CASE/UCO JSON-LD."""
    path = write_jsonld(case_graph(case, with_messages), out)
    case.log("export.case", {"path": str(out), "with_messages": with_messages})
    return path
