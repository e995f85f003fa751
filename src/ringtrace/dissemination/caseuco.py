"""CASE/UCO JSON-LD (CASE 1.5.0 / UCO 1.5.0, validated with case_validate from case-utils 0.18.0).

Mapping (docs/dissemination.md): the case is an ``investigation:Investigation``; each exhibit is a
``investigation:ProvenanceRecord`` (exhibit number) over an ``observable:File`` (container hashes) produced by an
``investigation:InvestigativeAction`` (intake); persons are ``identity:Person``; phone accounts
``observable:PhoneAccount`` (PhoneAccountFacet + AccountFacet), other accounts ``observable:ApplicationAccount``
(ApplicationAccountFacet + AccountFacet); each chat (a group, or a chat outside any group) is an
``observable:MessageThread`` whose ``MessageThreadFacet`` names its ``participant`` accounts and a ``types:Thread``
whose ``co:element`` are its messages; each message an ``observable:Message`` whose ``MessageFacet`` says ``from``
(the sender's account on the chat's platform) and ``to`` (the chat's other participants), with the exhibits it was
read from in its description (one node for the same message read from several exhibits), following the CASE 1.5.0
shapes of MessageFacet and MessageThreadFacet (messageThread / co:element); known-material media ``observable:File``
with a ContentDataFacet holding ``types:Hash`` values; invite links and the pages they were posted on
``observable:URL``. Other links are ``core:Relationship`` (Has_Account, Member_Of, Attached_To, Invites_To,
Posted_On). Every node IRI ends in a UUIDv5 so the same case gives the same graph and UCO's identifier shape is met.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ringtrace import TOOL
from ringtrace.dissemination.folding import dedup_messages

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
    "co": "http://purl.org/co/",
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
                            "pseudonym member Thread read from account identifier withheld messaging chat outside "
                            "any group message"])




# case_validate's cost is pySHACL re-parsing two SPARQL constraints once per node (about 60 ms a node): the advisory
# "UcoThings are suggested to end with a UUID" (severity Info, given its own IRI by UCO so that a producer with its own
# controls may deactivate it) and "no Facet shared by two objects". Every IRI here ends in a UUIDv5 and every Facet
# IRI is derived from its one owner's key; graph_problems() checks both in Python, so validating with
# ``case_validate --ontology-graph`` of this text keeps every other shape and takes a third of the time.
FAST_VALIDATION_TTL = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix core: <https://ontology.unifiedcyberontology.org/uco/core/> .
core:UcoThing-identifier-regex-shape sh:deactivated "true"^^xsd:boolean .
core:hasFacet-shape sh:deactivated "true"^^xsd:boolean .
"""
_UUID_END = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def graph_problems(graph: Mapping[str, Any]) -> list[str]:
    """What the two deactivated shapes would say: node IRIs not ending in a UUID, Facets linked from two objects."""
    problems: list[str] = []
    owner: dict[str, str] = {}

    def walk(x: Any, parent: str | None) -> None:
        if isinstance(x, list):
            for y in x:
                walk(y, parent)
        elif isinstance(x, dict):
            nid = x.get("@id")
            if nid and "@type" in x and not _UUID_END.search(str(nid)):
                problems.append(f"{nid}: IRI does not end in a UUID")
            for f in x.get("uco-core:hasFacet", []):
                fid = f.get("@id") if isinstance(f, dict) else None
                if fid and owner.setdefault(fid, str(nid)) != nid:
                    problems.append(f"{fid}: Facet of both {owner[fid]} and {nid}")
            for k, v in x.items():
                if k != "@context":
                    walk(v, nid or parent)

    walk(graph.get("@graph", []), None)
    return problems


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
    account_of = {p["id"]: [(a["platform"], a["kind"], a["value"]) for a in p.get("accounts", [])] for p in persons}
    sender_account: dict[tuple[str, str | None], str] = {}

    def sender(ref: str, platform: str | None) -> str | None:
        """The account a person writes from on a platform (phone first, then the platform's own id); a pseudonym
        gets one account node that names no identifier."""
        if (ref, platform) in sender_account:
            return sender_account[(ref, platform)]
        if ref not in person_iri:
            return None
        accs = sorted(account_of.get(ref, []), key=lambda a: (a[0] != platform, a[1] != "phone", a))
        if accs and (platform is None or accs[0][0] == platform):
            aid = _account(g, *accs[0])
        else:
            key = f"{ref}|{platform}"
            aid = g.add({"@id": g.iri("ApplicationAccount", key), "@type": "uco-observable:ApplicationAccount",
                         "uco-core:description": f"{platform or 'messaging'} account of {ref}; identifier withheld",
                         "uco-core:hasFacet": [{"@id": g.iri("AccountFacet", key),
                                                "@type": "uco-observable:AccountFacet"}]})
            objects.extend([aid, g.rel(person_iri[ref], aid, "Has_Account")])
        sender_account[(ref, platform)] = aid
        return aid

    # chats: one MessageThread each (a group, or a chat outside any group by its key), with a MessageThreadFacet
    # naming its participants' accounts and a types:Thread whose co:element are its messages (the CASE 1.5.0
    # MessageThreadFacet shapes); a message is a Message whose MessageFacet says from (the sender's account) and to
    # (the other participants' accounts; for a group, the group's thread itself when it has no known members)
    chats: dict[str, dict[str, Any]] = {}
    for grp in groups:
        names = "; ".join(n["name"] for n in grp.get("names", []))
        chats[grp["id"]] = {"name": grp["id"], "platform": grp.get("platform"),
                            "description": f"{grp.get('platform')} group; names: {names}",
                            "members": [m for m in grp.get("members", []) if m["person"] in person_iri],
                            "participants": [], "messages": []}
    for m in messages:
        key = m.get("group") or (f"chat:{m['chat']}" if m.get("chat") else None)
        if key and key not in chats:
            chats[key] = {"name": key, "platform": m.get("platform"), "description": "chat outside any group",
                          "members": [], "participants": [], "messages": []}
    thread_iri = {k: g.iri("MessageThread", k) for k in chats}
    for k, c in chats.items():
        for mem in c["members"]:
            pid = person_iri[mem["person"]]
            for iv in mem.get("intervals", []) or [{"from": None, "to": None}]:
                objects.append(g.rel(pid, thread_iri[k], "Member_Of", iv.get("from"), iv.get("to")))
            c["participants"].append(sender(mem["person"], c["platform"]))
    for m in messages:  # a sender the membership does not know is still a participant of the chat, and so is
        # the owner of each phone that holds it (a newsletter or a status post names no one else)
        ck = m.get("group") or (f"chat:{m['chat']}" if m.get("chat") else None)
        for who in [m.get("sender"), *m.get("holders", ())]:
            if ck in chats and who:
                frm0 = sender(who, m.get("platform") or chats[ck]["platform"])
                if frm0 and frm0 not in chats[ck]["participants"]:
                    chats[ck]["participants"].append(frm0)
    msg_iri: dict[str, str] = {}
    for i, m in enumerate(messages):
        chat_key = m.get("group") or (f"chat:{m['chat']}" if m.get("chat") else None)
        chat = chats.get(chat_key) if chat_key else None
        platform = m.get("platform") or (chat or {}).get("platform")
        key = f"{chat_key}|{m.get('at')}|{m.get('sender')}|{i}"
        mid = g.iri("Message", key)
        frm = sender(m["sender"], platform) if m.get("sender") else None
        to: list[dict[str, str]] = []
        if chat is not None:
            to = [{"@id": a} for a in sorted(set(chat["participants"]) - {frm}) if a]
            chat["messages"].append(mid)
        facet = {"@id": g.iri("MessageFacet", key), "@type": "uco-observable:MessageFacet",
                 "uco-observable:messageText": m.get("text") or None, "uco-observable:sentTime": _dt(m.get("at")),
                 "uco-observable:messageType": m.get("kind"),
                 "uco-observable:application": {"@id": _application(g, platform)} if platform else None,
                 "uco-observable:from": {"@id": frm} if frm else None, "uco-observable:to": to}
        g.add({"@id": mid, "@type": "uco-observable:Message", "uco-core:description": m.get("provenance"),
               "uco-core:hasFacet": [{k: v for k, v in facet.items() if v is not None and v != []}]})
        objects.append(mid)
        for sha in m.get("media", []):
            msg_iri.setdefault(sha, mid)
            objects.append(g.rel(g.iri("File", f"media|{sha}"), mid, "Attached_To"))
    for k, c in chats.items():
        thread = g.add({"@id": g.iri("Thread", k), "@type": "uco-types:Thread",
                        "co:size": {"@type": "xsd:nonNegativeInteger", "@value": len(c["messages"])},
                        "co:element": [{"@id": x} for x in c["messages"]]})
        g.add({"@id": thread_iri[k], "@type": "uco-observable:MessageThread", "uco-core:name": c["name"],
               "uco-core:description": c["description"],
               "uco-core:hasFacet": [{"@id": g.iri("MessageThreadFacet", k),
                                      "@type": "uco-observable:MessageThreadFacet",
                                      "uco-observable:participant": [{"@id": a} for a in sorted(set(c["participants"]))
                                                                     if a],
                                      "uco-observable:messageThread": {"@id": thread}}]})
        objects.append(thread_iri[k])
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


def _provenance(sources: Sequence[Mapping[str, Any]]) -> str | None:
    cites = [f"{c['source']} {c.get('location') or ''}".strip() for c in sources if c.get("source")]
    return "read from " + "; ".join(cites) if cites else None


def package_graph(doc: dict[str, Any]) -> dict[str, Any]:
    """The graph of a (scrubbed) package document: only what the package itself holds."""
    media: dict[str, dict[str, Any]] = {}
    for x in doc["matches"]:
        m = media.setdefault(x["sha256"], {"sha256": x["sha256"], "md5": x["md5"], "sha1": x["sha1"],
                                           "size": x.get("size"), "matches": []})
        m["matches"].append(x)
    platform = {g["id"]: g.get("platform") for g in doc["groups"]}
    msgs = [{**m, "platform": platform.get(m.get("group") or ""), "provenance": _provenance(m.get("sources", []))}
            for m in doc["messages"] if m["kind"] == "message"]
    return build_graph(f"{doc['case']} / referral package {doc['country']} v{doc['version']}", doc["sources"],
                       doc["persons"], doc["pseudonyms"], doc["groups"], msgs, list(media.values()),
                       doc["invite_links"], focus=f"referral package for {doc['country']}")


def write_jsonld(graph: dict[str, Any], out: Path) -> Path:
    from ringtrace.dissemination.export import write_json

    out.parent.mkdir(parents=True, exist_ok=True)
    return write_json(graph, out, sort_keys=True)


def case_graph(case: Any, with_messages: bool = True) -> dict[str, Any]:
    from ringtrace.dissemination.export import build_export

    exp = build_export(case, with_messages=with_messages)
    platform = {g["id"]: g.get("platform") for g in exp["groups"]}
    owner_of = _device_owners(case)
    # the same message read from several exhibits is one Message citing each (fewer, not redundant, nodes)
    msgs = [{"group": m["chat"].get("group"),
             "chat": None if m["chat"].get("group") else m["chat"].get("key"),
             "platform": platform.get(m["chat"].get("group") or ""), "at": m["at"], "sender": m["sender"],
             "text": m["text"], "media": m["media"], "kind": m["kind"], "provenance": _provenance(m["sources"]),
             "holders": sorted({owner_of[c["source"]] for c in m["sources"] if c.get("source") in owner_of})}
            for m in dedup_messages(exp.get("messages", [])) if m["kind"] == "message"]
    media = [m for m in exp["media"] if m["matches"]]
    return build_graph(exp["case"], exp["sources"], exp["persons"], [], exp["groups"], msgs, media,
                       exp["invite_links"], focus="whole case")


def _device_owners(case: Any) -> dict[str, str]:
    """Exhibit -> the person (label) who owns the phone, as its reader recorded or inferred them."""
    from sqlalchemy import select

    from ringtrace.store import schema as S

    do, pa = S.device_owners, S.person_accounts
    with case.engine.connect() as con:
        rows = con.execute(select(S.sources.c.exhibit, S.persons.c.label)
                           .join(do, do.c.source_id == S.sources.c.id)
                           .join(pa, pa.c.account_id == do.c.account_id)
                           .join(S.persons, S.persons.c.id == pa.c.person_id).order_by(do.c.id)).all()
    out: dict[str, str] = {}
    for r in rows:
        out.setdefault(r.exhibit, r.label)
    return out


def write_case_export(case: Any, out: Path, with_messages: bool = True) -> Path:
    """``ringtrace export CASE --format case --out F``: the whole case as CASE/UCO JSON-LD."""
    path = write_jsonld(case_graph(case, with_messages), out)
    case.log("export.case", {"path": str(out), "with_messages": with_messages})
    return path
