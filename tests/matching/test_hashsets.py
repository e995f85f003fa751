from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringtrace.matching.hashsets import (
    CategoryScheme,
    HashEntry,
    HashListError,
    HashListProblem,
    read_hashset,
    sniff_format,
)

MD5 = "ADEBF3FA3C9BE7F73825E1CB9E2DEA09"
SHA1 = "2B037F69C566DFDB3A5A79E5360D085959BDDE4C"
SHA256 = "ab" * 32
PDQ = "f0" * 32


def _split(items: list[HashEntry | HashListProblem]) -> tuple[list[HashEntry], list[HashListProblem]]:
    return [i for i in items if isinstance(i, HashEntry)], [i for i in items if isinstance(i, HashListProblem)]


def test_vics_13(tmp_path: Path) -> None:
    p = tmp_path / "list13.json"
    doc = {
        "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
        "value": [
            {
                "MediaID": 7,
                "MD5": MD5,
                "SHA1": SHA1,
                "Category": 1,
                "VictimIdentified": True,
                "OffenderIdentified": "false",
                "Series": "S-1",
                "PhotoDNA": "QUJD",
                "IsPrecategorized": "1",
                "MediaSize": 2835,
                "MediaFiles": [{"FileName": "x.jpg"}],
            },
            {"MediaID": 8, "MD5": "nothex", "Category": 5},
        ],
    }
    p.write_text(json.dumps(doc))
    assert sniff_format(p) == "vics"
    entries, problems = _split(list(read_hashset(p)))
    assert len(entries) == 1
    e = entries[0]
    assert (e.md5, e.sha1, e.category, e.raw_category) == (MD5.lower(), SHA1.lower(), "csam-a", "1")
    assert (e.victim_identified, e.offender_identified, e.series, e.raw_id, e.photodna) == (
        True,
        False,
        "S-1",
        "7",
        "QUJD",
    )
    assert ("MediaSize", "2835") in e.extra and e.position == "value[0]"
    assert len(problems) == 1 and "md5" in problems[0].reason and problems[0].position == "value[1]"


def test_vics_20_media_and_cases(tmp_path: Path) -> None:
    media = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
        "value": [{"MediaID": 1, "Category": 0, "MD5": MD5, "SHA256": SHA256.upper()}],
    }
    cases = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
        "value": [
            {
                "CaseID": "c1",
                "SourceApplicationName": "X",
                "Media": [
                    {"MediaID": 1, "MD5": MD5, "Category": 2},
                    {"MediaID": 2, "SHA1": SHA1, "Category": None, "MediaFiles": []},
                    "junk",
                ],
            }
        ],
    }
    a, b = tmp_path / "m.json", tmp_path / "c.json"
    a.write_text(json.dumps(media))
    b.write_text(json.dumps(cases, indent=2))
    ea, _ = _split(list(read_hashset(a)))
    assert [(e.md5, e.sha256, e.category) for e in ea] == [(MD5.lower(), SHA256, "not-pertinent")]
    eb, pb = _split(list(read_hashset(b)))
    assert [(e.md5, e.sha1, e.category, e.position) for e in eb] == [
        (MD5.lower(), None, "csam-b", "value[0].Media[0]"),
        (None, SHA1.lower(), "uncategorised", "value[0].Media[1]"),
    ]
    assert [p.position for p in pb] == ["value[0].Media[2]"]


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ('{"odata.metadata": "x", "value": [{"MD5": "' + MD5 + '"}, {"MD5": ', "truncated"),
        ('[{"MD5": "' + MD5 + '"}]', "top level"),
        ('{"@odata.context": "x", "value": {"MD5": "a"}}', '"value" is'),
        ('{"@odata.context": "x", "items": []}', 'no "value"'),
    ],
)
def test_vics_malformed_names_file(tmp_path: Path, text: str, msg: str) -> None:
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(HashListError) as ei:
        list(read_hashset(p, "vics"))
    assert str(p) in str(ei.value)
    assert msg in str(ei.value) or ("truncated" == msg and "JSON" in str(ei.value))


def test_icse_csv(tmp_path: Path) -> None:
    p = tmp_path / "icse.csv"
    p.write_text(
        "\ufeffMD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;"
        "Media Type;Category\n"
        f'{MD5};{SHA1};"QU;JD";101;true;Yes;No;"Series ""A""";Image;1\n'
        "zz;;;102;;;;;;\n"
        "\n"
        f"{MD5.lower()};;;103;;;;;Video;\n",
        encoding="utf-8",
    )
    assert sniff_format(p) == "icse"
    entries, problems = _split(list(read_hashset(p)))
    assert [(e.raw_id, e.line) for e in entries] == [("101", 2), ("103", 5)]
    e = entries[0]
    assert (e.md5, e.photodna, e.series, e.victim_identified, e.offender_identified, e.media_type) == (
        MD5.lower(),
        "QU;JD",
        'Series "A"',
        True,
        False,
        "Image",
    )
    assert ("Is distributed", "true") in e.extra
    assert len(problems) == 1 and problems[0].line == 3 and "md5" in problems[0].reason


def test_icse_without_hash_column_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("Name;Size\na;1\n")
    with pytest.raises(HashListError, match="no MD5"):
        list(read_hashset(p, "icse"))


def test_ncmec_xml(tmp_path: Path) -> None:
    p = tmp_path / "n.xml"
    p.write_text(
        '<?xml version="1.0"?><report xmlns="urn:x"><incident>'
        f"<fileDetails><fileName>a.jpg</fileName><md5>{MD5}</md5><sha1>{SHA1}</sha1>"
        "<photoDna>QUJD</photoDna></fileDetails>"
        f'<fileDetails id="9" category="2"><hash type="PDQ">{PDQ}</hash></fileDetails>'
        "<fileDetails><md5>123</md5></fileDetails>"
        f'<file md5="{MD5}" sha256="{SHA256}"/>'
        "</incident></report>"
    )
    assert sniff_format(p) == "ncmec-xml"
    entries, problems = _split(list(read_hashset(p)))
    assert [(e.md5, e.sha1, e.pdq, e.sha256, e.photodna) for e in entries] == [
        (MD5.lower(), SHA1.lower(), None, None, "QUJD"),
        (None, None, PDQ, None, None),
        (MD5.lower(), None, None, SHA256, None),
    ]
    assert entries[1].raw_id == "9" and entries[1].category == "csam-b"
    assert len(problems) == 1 and problems[0].position == "filedetails[3]"


def test_xml_malformed_and_entity_bomb(tmp_path: Path) -> None:
    p = tmp_path / "bad.xml"
    p.write_text(f"<list><file><md5>{MD5}</md5></file><file>")
    with pytest.raises(HashListError, match="malformed XML") as ei:
        list(read_hashset(p))
    assert str(p) in str(ei.value)
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l><f><md5>&a;</md5></f></l>')
    with pytest.raises(HashListError):
        list(read_hashset(bomb, "ncmec-xml"))


def test_plain_lists(tmp_path: Path) -> None:
    p = tmp_path / "plain.txt"
    p.write_text(f"# comment\n{MD5}\n{SHA1}\n\n{SHA256}\nnot a hash\n{'g' * 32}\n")
    assert sniff_format(p) == "plain"
    entries, problems = _split(list(read_hashset(p)))
    assert [(e.md5, e.sha1, e.sha256) for e in entries] == [
        (MD5.lower(), None, None),
        (None, SHA1.lower(), None),
        (None, None, SHA256),
    ]
    assert [(pr.line, "not an" in pr.reason or "hex" in pr.reason) for pr in problems] == [
        (6, True),
        (7, True),
    ]
    # the same 64-hex line is a PDQ when the list is told so
    q = tmp_path / "pdq.txt"
    q.write_text(f"{PDQ}\n")
    assert [e.pdq for e in read_hashset(q, "pdq") if isinstance(e, HashEntry)] == [PDQ]
    with pytest.raises(HashListError, match="unknown"):
        read_hashset(q, "nope")


def test_threatexchange_prefixed_lines(tmp_path: Path) -> None:
    p = tmp_path / "tx.txt"
    p.write_text(f"pdq {PDQ}\ttag1,tag2\nmd5 {MD5}\npdq {'0' * 63}\n")
    entries, problems = _split(list(read_hashset(p)))
    assert (entries[0].pdq, entries[0].extra) == (PDQ, (("meta", "tag1,tag2"),))
    assert entries[1].md5 == MD5.lower()
    assert len(problems) == 1 and problems[0].line == 3


def test_plain_overlong_line(tmp_path: Path) -> None:
    p = tmp_path / "long.txt"
    p.write_text("a" * 40000 + f"\n{MD5}\n")
    entries, problems = _split(list(read_hashset(p, "plain")))
    assert [e.line for e in entries] == [2] and "longer" in problems[0].reason


def test_category_scheme_from_json(tmp_path: Path) -> None:
    s = tmp_path / "uk.json"
    s.write_text(json.dumps({"name": "uk", "mapping": {"1": "cat-a", "2": "cat-b"}, "default": None}))
    scheme = CategoryScheme.from_json(s)
    assert (scheme.normalise("1"), scheme.normalise(2.0), scheme.normalise("odd")) == (
        "cat-a",
        "cat-b",
        "odd",
    )
    p = tmp_path / "v.json"
    p.write_text(json.dumps({"@odata.context": "x#Media", "value": [{"MD5": MD5, "Category": 1}]}))
    (e,) = list(read_hashset(p, category_scheme=scheme))
    assert isinstance(e, HashEntry) and (e.category, e.raw_category) == ("cat-a", "1")
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(HashListError, match="mapping"):
        CategoryScheme.from_json(bad)


def test_unknown_and_empty_files(tmp_path: Path) -> None:
    e = tmp_path / "empty.txt"
    e.write_text("   \n")
    with pytest.raises(HashListError, match="empty"):
        read_hashset(e)
    u = tmp_path / "u.bin"
    u.write_bytes(b"hello world, nothing here\n")
    with pytest.raises(HashListError, match="not a known"):
        read_hashset(u)
