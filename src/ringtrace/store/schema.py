"""The case database: SQLAlchemy Core tables. Alembic migrations in ``store/migrations`` are the authority on
the deployed schema; a test checks that they and this module agree.

Evidence-derived rows (accounts ... indicators) always carry ``source_id`` plus a provenance locator
(``prov_file``, ``prov_table``, ``prov_row``, ``prov_line``). Analysis rows (persons, memberships ...) are
recomputed as a whole by their stage and cite the evidence rows they rest on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _prov() -> list[Column[Any]]:
    return [
        Column("prov_file", Text, nullable=False, server_default=""),
        Column("prov_table", Text),
        Column("prov_row", Text),
        Column("prov_line", Integer),
    ]


def _source_fk() -> Column[int]:
    return Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True)


case_info = Table(
    "case_info",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# ---- chain of custody -----------------------------------------------------------------------------------

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("exhibit", Text, nullable=False),
    Column("kind", String(100), nullable=False),  # container kind: file | folder | zip | tar
    Column("original_path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),  # of the container file, or of the sorted file manifest
    Column("md5", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("mode", String(20), nullable=False),  # vault (copied) | reference (verified in place)
    Column("examiner", Text),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("owner", Text),
    Column("region", String(2)),
    Column("seizure_country", String(2)),
    Column("format_hint", Text),
    Column("tool", Text, nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # staged | parsed | failed
    UniqueConstraint("sha256", name="uq_sources_sha256"),
)

source_files = Table(
    "source_files",
    metadata,
    Column("id", Integer, primary_key=True),
    _source_fk(),
    Column("relpath", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("md5", String(32), nullable=False),
    Column("sha1", String(40), nullable=False),
    Column("embedded", Boolean, nullable=False, server_default="0"),  # extracted from a container (WARC record ...)
    Column("format", Text),  # the source format that read it as a unit's primary file
    Column("unit_primary", Text),  # relpath of the unit it belongs to
    Column("origin_uri", Text),  # for capture resources: the URL the content was captured from
    UniqueConstraint("source_id", "relpath", name="uq_source_files_source_id_relpath"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),  # ISO 8601 UTC, stored as text so hashing is exact
    Column("actor", Text, nullable=False),
    Column("action", String(100), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", String(50), nullable=False),
    Column("key", Text, nullable=False),  # what the job covers: a source id, "all" ...
    Column("status", String(20), nullable=False),  # running | done | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("detail", Text),
    UniqueConstraint("stage", "key", name="uq_jobs_stage_key"),
)

problems = Table(
    "problems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), index=True),
    Column("stage", String(50), nullable=False),
    Column("file", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("severity", String(20), nullable=False),
    Column("locator", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)

# ---- evidence-derived facts -------------------------------------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("value", Text, nullable=False),
    UniqueConstraint("platform", "kind", "value", name="uq_accounts_identity"),
)

account_sightings = Table(
    "account_sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    _source_fk(),
    *_prov(),
)

account_links = Table(
    "account_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("a_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("b_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("basis", Text, nullable=False),
    _source_fk(),
    *_prov(),
)

names_seen = Table(
    "names_seen",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("kind", String(50), nullable=False),
    _source_fk(),
    *_prov(),
)

device_owners = Table(
    "device_owners",
    metadata,
    Column("id", Integer, primary_key=True),
    _source_fk(),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("basis", Text, nullable=False),
    *_prov(),
)

chats = Table(
    "chats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("key", Text, nullable=False),
    Column("peer_account_id", Integer, ForeignKey("accounts.id")),
    # chats known only to one source (exports without ids) are scoped to it
    Column("scope_source_id", Integer, ForeignKey("sources.id")),
    UniqueConstraint("platform", "kind", "key", "scope_source_id", name="uq_chats_identity"),
)

group_sightings = Table(
    "group_sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", Integer, ForeignKey("chats.id"), nullable=False, index=True),
    _source_fk(),
    Column("name", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("creator_id", Integer, ForeignKey("accounts.id")),
    Column("invite_code", Text),
    *_prov(),
)

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", Integer, ForeignKey("chats.id"), nullable=False, index=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("current", Boolean, nullable=False),
    Column("at", DateTime(timezone=True)),
    _source_fk(),
    *_prov(),
)

group_events = Table(
    "group_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", Integer, ForeignKey("chats.id"), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("at", DateTime(timezone=True)),
    Column("actor_id", Integer, ForeignKey("accounts.id")),
    Column("target_id", Integer, ForeignKey("accounts.id")),
    Column("raw_code", Text),
    Column("value", Text),
    Column("old_value", Text),
    Column("msg_key", Text),
    _source_fk(),
    *_prov(),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", Integer, ForeignKey("chats.id"), nullable=False, index=True),
    Column("msg_key", Text),
    Column("sender_id", Integer, ForeignKey("accounts.id"), index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("precision_s", Integer, nullable=False, server_default="1"),
    Column("text", Text),
    Column("forwarded", Boolean, nullable=False, server_default="0"),
    Column("from_owner", Boolean, nullable=False, server_default="0"),
    Column("raw_type", Text),
    _source_fk(),
    *_prov(),
)

message_media = Table(
    "message_media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False, index=True),
    Column("sha256", String(64), index=True),  # resolved: from the file, else declared by the app
    Column("relpath", Text),
    Column("name", Text),
    Column("size", BigInteger),
    Column("mime", Text),
    Column("declared_only", Boolean, nullable=False, server_default="0"),
)

pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True),
    _source_fk(),
    Column("uri", Text),
    Column("captured_at", DateTime(timezone=True)),
    Column("record_id", Text),
    Column("title", Text),
    Column("content_type", Text),
    Column("language", Text),
    Column("resources", JSON),  # absolute URLs of images/media the page references (bounded list)
    *_prov(),
)

indicators = Table(
    "indicators",
    metadata,
    Column("id", Integer, primary_key=True),
    _source_fk(),
    Column("kind", String(50), nullable=False, index=True),
    Column("value", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("page_uri", Text),
    Column("platform", Text),
    Column("code", Text, index=True),
    Column("secret", Text),
    Column("at", DateTime(timezone=True)),
    *_prov(),
)

# ---- media and known material ---------------------------------------------------------------------------

media = Table(
    "media",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("md5", String(32), nullable=False, index=True),
    Column("sha1", String(40), nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("mime", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("pdq_dihedral", Text),  # 8 hex hashes, comma separated, original first
    Column("video_frames", JSON),
    Column("error", Text),
)

hashsets = Table(
    "hashsets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("format", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("original_path", Text, nullable=False),
    Column("category_scheme", Text),
    Column("pdq_distance", Integer, nullable=False, server_default="31"),
    Column("entry_count", Integer, nullable=False, server_default="0"),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

hash_entries = Table(
    "hash_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hashset_id", Integer, ForeignKey("hashsets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("md5", String(32), index=True),
    Column("sha1", String(40), index=True),
    Column("sha256", String(64), index=True),
    Column("pdq", String(64)),
    Column("photodna", Text),
    Column("category", Text),
    Column("raw_category", Text),
    Column("series", Text),
    Column("victim_identified", Boolean),
    Column("offender_identified", Boolean),
    Column("raw_id", Text),
    Column("position", Integer),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("media_sha256", String(64), ForeignKey("media.sha256"), nullable=False, index=True),
    Column("entry_id", Integer, ForeignKey("hash_entries.id", ondelete="CASCADE"), nullable=False),
    Column("hashset_id", Integer, ForeignKey("hashsets.id", ondelete="CASCADE"), nullable=False),
    Column("method", String(20), nullable=False),  # md5 | sha1 | sha256 | pdq | vpdq
    Column("distance", Integer, nullable=False, server_default="0"),
    Column("variant", Integer),  # dihedral variant for pdq
    UniqueConstraint("media_sha256", "entry_id", "method", name="uq_matches_media_entry_method"),
)

# ---- analysis (recomputed as a whole by the analyze stage) -------------------------------------------------

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False),  # stable human reference, e.g. P0012
    Column("country", String(2)),
    Column("country_basis", Text),
    Column("country_confidence", Float),
    Column("explanation", JSON),  # why these accounts were merged
)

person_accounts = Table(
    "person_accounts",
    metadata,
    Column("person_id", Integer, ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("basis", Text, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("creator_person_id", Integer, ForeignKey("persons.id")),
    Column("detail", JSON),  # identifiers, names over time, conflicts, evidence
)

group_chats = Table(
    "group_chats",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("chat_id", Integer, ForeignKey("chats.id"), primary_key=True),
    Column("basis", Text, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_at", DateTime(timezone=True)),
    Column("to_at", DateTime(timezone=True)),
    Column("joined_via", String(30)),  # created | added | invite_link | unknown
    Column("invite_code", Text),
    Column("role", String(20), nullable=False, server_default="member"),
    Column("evidence", JSON),
)

labels = Table(
    "labels",
    metadata,
    Column("kind", String(20), primary_key=True),  # person | group
    Column("anchor", String(40), primary_key=True),  # an account id (person) or chat id (group)
    Column("label", Text, nullable=False),
)

overrides = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),  # alias | country | status
    Column("subject", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text),
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# ---- investigators' decisions made in the web app (migration 0003) -------------------------------------------
# subject_kind: person | group | message | media; subject: its label (P0012, G0003), message id or media sha256.

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(20), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(20), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("tag", String(60), nullable=False),
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subject_kind", "subject", "tag", name="uq_tags_subject_tag"),
)

bookmarks = Table(
    "bookmarks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(20), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

media_categories = Table(
    "media_categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("scheme", String(60), nullable=False),
    Column("category", String(60), nullable=False),  # the scheme's raw value (VICS: 0..5)
    Column("label", String(60), nullable=False),  # its normalised label (csam-a, adult ...)
    Column("reason", Text),
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_media_categories_sha256", media_categories.c.sha256)

# ---- text read out of documents and pictures of paper (migration 0004) ----------------------------------------
# Keyed by content (sha256), like media: a document or page image is read once however many exhibits hold it;
# source_files.sha256 says where it was found. origin: text (a document's own text layer) | ocr | transcription
# (an examiner's, audited; ``by`` names them). Boxes are pixels of the page image (OCR, transcription of a region).

text_lines = Table(
    "text_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("origin", String(20), nullable=False),
    Column("page", Integer, nullable=False),  # 1-based
    Column("line_no", Integer, nullable=False),  # 1-based within the page
    Column("text", Text, nullable=False),
    Column("box_left", Integer),
    Column("box_top", Integer),
    Column("box_width", Integer),
    Column("box_height", Integer),
    Column("confidence", Float),  # 0..100 as Tesseract reports it; None for a text layer or a transcription
    Column("rotation", Integer),  # degrees the page was turned before reading (orientation detection)
    Column("language", String(40)),  # languages read with (Tesseract's "spa+eng")
    Column("by", Text, nullable=False),  # tool and version, or the examiner
    Column("at", DateTime(timezone=True), nullable=False),
    # migration 0009: OCR'd off a picture embedded in a PDF page with a text layer (a photo of a note): which one,
    # "/Im3 (1600x1200)"; the box is then in that picture's pixels
    Column("image", String(200)),
)
Index("ix_text_lines_sha256_page_line", text_lines.c.sha256, text_lines.c.page, text_lines.c.line_no)

# ---- what notes say (migration 0007): entities read from text_lines, their links to persons, possible victims ----
# Recomputed as a whole by the notes stage, like the other analysis tables. Links are suggestions with a basis and a
# score, never merges. possible_victims is the most sensitive table of a case: shown only to users granted it, and
# only in its own country's package when asked for.

note_entities = Table(
    "note_entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("text_line_id", Integer),  # text_lines.id the entity was read from
    Column("origin", String(20), nullable=False),  # of that line: text | ocr | transcription
    Column("page", Integer, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(20), nullable=False),  # name | age | place | date | phone | email | username
    Column("value", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("country", String(2)),
    Column("date_precision", String(10)),  # day | month | year
    Column("basis", Text, nullable=False),
    Column("box_left", Integer),
    Column("box_top", Integer),
    Column("box_width", Integer),
    Column("box_height", Integer),
)

note_links = Table(
    "note_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entity_id", Integer, ForeignKey("note_entities.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("person_label", Text, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id")),
    Column("matched", Text, nullable=False),  # the case's own value it matched (E.164, a name seen)
    Column("basis", Text, nullable=False),
    Column("score", Float, nullable=False),  # 100 for an exact phone; the fuzzy score for a name
)

possible_victims = Table(
    "possible_victims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False),  # V0001: stable within a case version, for reference in reports
    Column("name", Text, nullable=False),
    Column("age", Integer),
    Column("place", Text),
    Column("place_country", String(2)),
    Column("country", String(2)),  # for need-to-know: the place's country, else the exhibit's seizure country
    Column("country_basis", Text, nullable=False),
    Column("dates", JSON),  # dates written on the same line
    Column("sha256", String(64), nullable=False),
    Column("page", Integer, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("entity_ids", JSON, nullable=False),
    Column("basis", Text, nullable=False),
)

# one row per content and way of reading it (text layer | ocr): the stage's own record of what it has done, so a
# run resumes where a crash left it and never reads twice, also a content that gave no lines or failed
text_reads = Table(
    "text_reads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("method", String(20), nullable=False),  # text (a document's own text) | ocr
    Column("kind", String(20), nullable=False),  # pdf | docx | odt | rtf | text | image
    Column("status", String(20), nullable=False),  # read | empty | failed | not-page (an image not taken for paper)
    Column("pages", Integer),
    Column("lines", Integer, nullable=False, server_default="0"),
    Column("reason", Text),  # why it failed or was cut
    Column("by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("sha256", "method", name="uq_text_reads_sha256_method"),
)

Index("ix_messages_chat_at", messages.c.chat_id, messages.c.at)
Index("ix_group_events_chat_at", group_events.c.chat_id, group_events.c.at)


def messages_tsvector(text_col: Any) -> Any:
    """Message words for PostgreSQL full-text search (``dissemination.textsearch``), written with literals so a
    query's expression is the index's own: the ``simple`` configuration, no stemming, no stop words."""
    from sqlalchemy import func, literal_column

    return func.to_tsvector(literal_column("'simple'::regconfig"), func.coalesce(text_col, literal_column("''")))


# PostgreSQL only (migration 0008): SQLite cases search through the FTS5 side file instead
Index("ix_messages_text_tsv", messages_tsvector(messages.c.text), postgresql_using="gin").ddl_if(
    dialect="postgresql")

__all__ = ["metadata", "LargeBinary"]

# ---- computers' disk images (migration 0005) -------------------------------------------------------------------
# A disk image is recorded and verified where it lies (sources.kind 'disk', mode 'in-place'; 'vault' when the
# examiner asked for a copy). disk_images: how it was read and what its own container says (EWF's stored MD5/SHA-1)
# against what was computed over the media. disk_files: every file found in it, live or deleted, with its place
# (partition, file-system path, inode or MFT record, MACB times, the byte offset of its first data run in the
# media). ``stored``: its bytes were put in the vault (and in source_files, where formats and hashing find them);
# the others are inventoried with their digests only (see ringtrace.disk.storing).

disk_images = Table(
    "disk_images",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, unique=True),
    Column("image_type", String(20), nullable=False),  # EWF | RAW | VMDK | VHDI | QCOW ...
    Column("segments", JSON, nullable=False),  # [{"name", "size", "sha256" (only when copied into the vault)}]
    Column("media_size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),  # computed over the media (the acquired disk's bytes)
    Column("sha1", String(40), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("stored_md5", String(32)),  # what the image's own container recorded at acquisition (EWF)
    Column("stored_sha1", String(40)),
    Column("verification", String(20), nullable=False),  # match | mismatch | none-stored | unreadable
    Column("volumes", JSON, nullable=False),  # [{"partition", "offset", "size", "fs_type", "files", "problem"}]
    Column("copied", Boolean, nullable=False, server_default="0"),
)

disk_files = Table(
    "disk_files",
    metadata,
    Column("id", Integer, primary_key=True),
    _source_fk(),
    Column("relpath", Text, nullable=False),  # in the exhibit tree: <partition>/<path>
    Column("partition", String(40), nullable=False),  # p1, p2 ... or 'fs' for a bare file system
    Column("fs_type", String(20), nullable=False),  # NTFS, Ext4, FAT32, exFAT ... (as The Sleuth Kit names it)
    Column("fs_path", Text, nullable=False),  # the path inside the file system, as it stands there
    Column("inode", BigInteger),  # inode, MFT record or FAT directory-entry address
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("sha1", String(40), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("mtime", DateTime(timezone=True)),  # M: content modified
    Column("atime", DateTime(timezone=True)),  # A: accessed
    Column("ctime", DateTime(timezone=True)),  # C: metadata changed (NTFS: MFT record changed)
    Column("crtime", DateTime(timezone=True)),  # B: born (created)
    Column("deleted", Boolean, nullable=False, server_default="0"),
    Column("stored", Boolean, nullable=False, server_default="0"),
    Column("media_offset", BigInteger),  # byte offset of the first data run in the media; None when resident
    UniqueConstraint("source_id", "relpath", name="uq_disk_files_source_id_relpath"),
)
