"""The relational catalogue: SQLAlchemy models. The schema itself is built only by Alembic."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from weaponsdb import vocab

# Stable constraint names keep migrations (and SQLite batch rebuilds) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def one_of(column: str, enum: type[StrEnum], name: str | None = None) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in vocab.values(enum))
    return CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_vocab")


class Source(Timestamped, Base):
    """A publication behind one or more claims."""

    __tablename__ = "sources"
    __table_args__ = (one_of("kind", vocab.SourceKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(10))  # ISO 8601: YYYY, YYYY-MM or date
    url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)

    # Readers that show many sources load these with selectinload (read.sources_by_key).
    identifiers: Mapped[list[SourceIdentifier]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceIdentifier.id"
    )


class Producer(Timestamped, Base):
    """A manufacturer, factory or arsenal, with the code it marks its products with."""

    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    factory_code: Mapped[str | None] = mapped_column(String(40), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    identifiers: Mapped[list[ProducerIdentifier]] = relationship(
        back_populates="producer", cascade="all, delete-orphan", order_by="ProducerIdentifier.id"
    )


class Identifying(Timestamped):
    """The columns of an external identifier, of an entry, producer or source."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class SourceIdentifier(Identifying, Base):
    """A source elsewhere, e.g. the Wikidata item of a publication."""

    __tablename__ = "source_identifiers"
    __table_args__ = (one_of("scheme", vocab.IdentifierScheme),)

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)

    source: Mapped[Source] = relationship(back_populates="identifiers")


class ProducerIdentifier(Identifying, Base):
    """A producer elsewhere, e.g. its Wikidata item."""

    __tablename__ = "producer_identifiers"
    __table_args__ = (
        one_of("scheme", vocab.IdentifierScheme),
        Index("ix_producer_identifiers_scheme_value", "scheme", "value"),
    )

    producer_id: Mapped[int] = mapped_column(
        ForeignKey("producers.id", ondelete="CASCADE"), index=True
    )

    producer: Mapped[Producer] = relationship(back_populates="identifiers")


class Entry(Timestamped, Base):
    """A weapon system or munition type: one catalogue entry."""

    __tablename__ = "entries"
    __table_args__ = (
        one_of("category", vocab.Category),
        one_of("status", vocab.Status),
        CheckConstraint("calibre_mm > 0", name="calibre_positive"),
    )
    # A change answers from the rows in memory (revisions.record_revision): fetch the
    # timestamps the database sets with the UPDATE itself (RETURNING), not by reading again.
    __mapper_args__ = MappingProxyType({"eager_defaults": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    # Permanent: entries are never deleted, so a slug is never reused.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(30), index=True)
    calibre_mm: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), index=True)
    calibre_designation: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    family: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=vocab.Status.DRAFT.value, index=True)
    # Bumped by every change; equals the number of the entry's latest revision (revisions.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    retraction_reason: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    names: Mapped[list[EntryName]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryName.id"
    )
    features: Mapped[list[Feature]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Feature.id"
    )
    markings: Mapped[list[Marking]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Marking.id"
    )
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Measurement.id"
    )
    producers: Mapped[list[EntryProducer]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryProducer.id"
    )
    relations: Mapped[list[Relation]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="Relation.id",
        foreign_keys="Relation.entry_id",
    )
    instances: Mapped[list[Instance]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Instance.id"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Photo.id"
    )
    citations: Mapped[list[Citation]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Citation.id"
    )
    identifiers: Mapped[list[EntryIdentifier]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryIdentifier.id"
    )


class EntryIdentifier(Identifying, Base):
    """The entry in another catalogue (e.g. its Wikidata item), or a file that shows it."""

    __tablename__ = "entry_identifiers"
    __table_args__ = (
        UniqueConstraint("entry_id", "scheme", "value"),
        one_of("scheme", vocab.IdentifierScheme),
        Index("ix_entry_identifiers_scheme_value", "scheme", "value"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)

    entry: Mapped[Entry] = relationship(back_populates="identifiers")


class EntryName(Timestamped, Base):
    """A name, designation or alias as written, in its own script."""

    __tablename__ = "entry_names"
    __table_args__ = (UniqueConstraint("entry_id", "text"), one_of("kind", vocab.NameKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    script: Mapped[str | None] = mapped_column(String(4))  # ISO 15924, e.g. Latn, Hang, Hani
    language: Mapped[str | None] = mapped_column(String(35))  # BCP 47, e.g. en, ko, zh
    kind: Mapped[str] = mapped_column(String(20))

    entry: Mapped[Entry] = relationship(back_populates="names")
    citations: Mapped[list[Citation]] = relationship(
        back_populates="name", cascade="all, delete-orphan", order_by="Citation.id"
    )


class Feature(Timestamped, Base):
    """Something that distinguishes the item on sight."""

    __tablename__ = "features"
    __table_args__ = (
        one_of("kind", vocab.FeatureKind),
        one_of("diagnostic", vocab.Diagnosticity),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    diagnostic: Mapped[str | None] = mapped_column(String(12))

    entry: Mapped[Entry] = relationship(back_populates="features")
    citations: Mapped[list[Citation]] = relationship(
        back_populates="feature", cascade="all, delete-orphan", order_by="Citation.id"
    )


class Marking(Timestamped, Base):
    """Text found on the item, as written, with where it appears and what it means."""

    __tablename__ = "markings"
    __table_args__ = (one_of("kind", vocab.MarkingKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    script: Mapped[str | None] = mapped_column(String(4))
    language: Mapped[str | None] = mapped_column(String(35))
    kind: Mapped[str | None] = mapped_column(String(24))
    position: Mapped[str | None] = mapped_column(Text)
    meaning: Mapped[str | None] = mapped_column(Text)
    # The marking with its variable parts as placeholders, e.g. "Bang-122 {lot}"; see patterns.py.
    pattern: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[Entry] = relationship(back_populates="markings")
    citations: Mapped[list[Citation]] = relationship(
        back_populates="marking", cascade="all, delete-orphan", order_by="Citation.id"
    )


class Measurement(Timestamped, Base):
    """A sourced dimension or weight."""

    __tablename__ = "measurements"
    __table_args__ = (
        one_of("quantity", vocab.Quantity),
        one_of("unit", vocab.Unit),
        CheckConstraint("value > 0", name="value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit: Mapped[str] = mapped_column(String(4))
    note: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[Entry] = relationship(back_populates="measurements")
    citations: Mapped[list[Citation]] = relationship(
        back_populates="measurement", cascade="all, delete-orphan", order_by="Citation.id"
    )


class EntryProducer(Timestamped, Base):
    __tablename__ = "entry_producers"
    __table_args__ = (UniqueConstraint("entry_id", "producer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    producer_id: Mapped[int] = mapped_column(
        ForeignKey("producers.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(40))

    entry: Mapped[Entry] = relationship(back_populates="producers")
    producer: Mapped[Producer] = relationship()
    citations: Mapped[list[Citation]] = relationship(
        back_populates="producer_link", cascade="all, delete-orphan", order_by="Citation.id"
    )


class Relation(Timestamped, Base):
    """Family and variant links between entries: *entry* is a <kind> *target*."""

    __tablename__ = "relations"
    __table_args__ = (
        UniqueConstraint("entry_id", "kind", "target_id"),
        one_of("kind", vocab.RelationKind),
        CheckConstraint("entry_id <> target_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="RESTRICT"), index=True
    )

    entry: Mapped[Entry] = relationship(back_populates="relations", foreign_keys=[entry_id])
    target: Mapped[Entry] = relationship(foreign_keys=[target_id])
    citations: Mapped[list[Citation]] = relationship(
        back_populates="relation", cascade="all, delete-orphan", order_by="Citation.id"
    )


# Coordinates are both given or neither, on the globe, and say how precise they are.
COORDINATES_CHECKS = (
    CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
    CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    CheckConstraint(
        "(latitude IS NULL AND longitude IS NULL AND precision IS NULL) OR "
        "(latitude IS NOT NULL AND longitude IS NOT NULL AND precision IS NOT NULL)",
        name="coordinates_whole",
    ),
)


class Instance(Timestamped, Base):
    """Where and when items of this type were documented."""

    __tablename__ = "instances"
    __table_args__ = (*COORDINATES_CHECKS, one_of("precision", vocab.Precision))

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)  # the place name
    country: Mapped[str | None] = mapped_column(String(2))
    date: Mapped[str | None] = mapped_column(String(10))  # ISO 8601: YYYY, YYYY-MM or date
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)  # WGS 84 degrees
    longitude: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[str | None] = mapped_column(String(10))

    entry: Mapped[Entry] = relationship(back_populates="instances")
    citations: Mapped[list[Citation]] = relationship(
        back_populates="instance", cascade="all, delete-orphan", order_by="Citation.id"
    )


class Photo(Timestamped, Base):
    """A reference photo of an entry; the image itself lives in the photo store by hash."""

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("entry_id", "sha256"),
        one_of("view", vocab.PhotoView),
        CheckConstraint("width > 0 AND height > 0 AND byte_size > 0", name="dimensions_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    marking_id: Mapped[int | None] = mapped_column(
        ForeignKey("markings.id", ondelete="SET NULL"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the stored, stripped image
    original_sha256: Mapped[str] = mapped_column(String(64))  # of the file as uploaded
    media_type: Mapped[str] = mapped_column(String(40))
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    caption: Mapped[str | None] = mapped_column(Text)
    view: Mapped[str | None] = mapped_column(String(20))
    credit: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    captured_on: Mapped[str | None] = mapped_column(String(10))
    # imagehash's 64-bit pHash of the stored image, as 16 hex digits (photos/similarity.py).
    phash: Mapped[str | None] = mapped_column(String(16), index=True)

    entry: Mapped[Entry] = relationship(back_populates="photos")
    marking: Mapped[Marking | None] = relationship()
    citations: Mapped[list[Citation]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", order_by="Citation.id"
    )


CITED_COLUMNS = (
    "entry_id",
    "name_id",
    "feature_id",
    "marking_id",
    "measurement_id",
    "producer_link_id",
    "relation_id",
    "instance_id",
    "photo_id",
)
_EXACTLY_ONE_TARGET = (
    " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in CITED_COLUMNS)
    + " = 1"
)


class Citation(Timestamped, Base):
    """The link from one claim to the source that makes it, with a confidence.

    Exactly one target column is set. On an entry, *field* names the attribute the source
    supports (e.g. "country"); elsewhere the whole claim (feature, marking, ...) is meant.
    *via* names the publication through which the claim reached us, when we hold the
    source only as quoted in another.
    """

    __tablename__ = "citations"
    __table_args__ = (
        CheckConstraint(_EXACTLY_ONE_TARGET, name="exactly_one_target"),
        one_of("confidence", vocab.Confidence),
        Index("ix_citations_source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    via_source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    confidence: Mapped[str] = mapped_column(String(12))
    field: Mapped[str | None] = mapped_column(String(40))
    quote: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    name_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_names.id", ondelete="CASCADE"), index=True
    )
    feature_id: Mapped[int | None] = mapped_column(
        ForeignKey("features.id", ondelete="CASCADE"), index=True
    )
    marking_id: Mapped[int | None] = mapped_column(
        ForeignKey("markings.id", ondelete="CASCADE"), index=True
    )
    measurement_id: Mapped[int | None] = mapped_column(
        ForeignKey("measurements.id", ondelete="CASCADE"), index=True
    )
    producer_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_producers.id", ondelete="CASCADE"), index=True
    )
    relation_id: Mapped[int | None] = mapped_column(
        ForeignKey("relations.id", ondelete="CASCADE"), index=True
    )
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )

    source: Mapped[Source] = relationship(foreign_keys=[source_id])
    via: Mapped[Source | None] = relationship(foreign_keys=[via_source_id])
    entry: Mapped[Entry | None] = relationship(back_populates="citations")
    name: Mapped[EntryName | None] = relationship(back_populates="citations")
    feature: Mapped[Feature | None] = relationship(back_populates="citations")
    marking: Mapped[Marking | None] = relationship(back_populates="citations")
    measurement: Mapped[Measurement | None] = relationship(back_populates="citations")
    producer_link: Mapped[EntryProducer | None] = relationship(back_populates="citations")
    relation: Mapped[Relation | None] = relationship(back_populates="citations")
    instance: Mapped[Instance | None] = relationship(back_populates="citations")
    photo: Mapped[Photo | None] = relationship(back_populates="citations")


class SeedApplied(Base):
    """Which seed records were loaded once, so a later load never re-adds what editors removed."""

    __tablename__ = "seed_applied"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class CatalogueGeneration(Base):
    """One row whose value the database's own triggers bump whenever entries, their names or
    their markings change (migration 0005): the matcher refreshes its index when it moves."""

    __tablename__ = "catalogue_generation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CatalogueChange(Base):
    """Which entry a change touched, at which generation (written by triggers, migration
    0005); a NULL entry means every entry."""

    __tablename__ = "catalogue_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(BigInteger, index=True)
    entry_id: Mapped[int | None]


class ApiKey(Base):
    """A key for the write API. Only a SHA-256 hash of the secret is kept (see keys.py)."""

    __tablename__ = "api_keys"
    __table_args__ = (one_of("role", vocab.Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Snapshotted(Base):
    """What every revision holds: its number, the record as it then stood, who, when, why."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON)  # the record as JSON
    author: Mapped[str] = mapped_column(String(80))  # the API key's name, or seed / import
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Revision(Snapshotted):
    """An immutable, numbered snapshot of an entry (EntryRecord) after one change."""

    __tablename__ = "revisions"
    __table_args__ = (
        UniqueConstraint("entry_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    # RESTRICT: entries are never deleted, and their history must not be either.
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="RESTRICT"))

    entry: Mapped[Entry] = relationship()


class SourceRevision(Snapshotted):
    """An immutable, numbered snapshot of a source (SourceRecord) after one change."""

    __tablename__ = "source_revisions"
    __table_args__ = (
        UniqueConstraint("source_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))

    source: Mapped[Source] = relationship()


class Observation(Base):
    """A sighting sent by a contributor, reviewed by an editor: linked to an entry as a
    documented instance, or declined, never deleted. Its coordinates are the contributor's;
    only editors see them until an editor publishes them at a precision of their choice."""

    __tablename__ = "observations"
    __table_args__ = (
        *COORDINATES_CHECKS,
        one_of("precision", vocab.Precision),
        one_of("state", vocab.ObservationState),
        one_of("category", vocab.Category),
        one_of("source_kind", vocab.ObservationSourceKind),
        CheckConstraint("calibre_mm > 0", name="calibre_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submitter: Mapped[str] = mapped_column(String(80), index=True)  # the key's name
    state: Mapped[str] = mapped_column(String(20), index=True)
    # Bumped by every step of the review; equals the number of its latest revision.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    markings: Mapped[list[str]] = mapped_column(JSON)  # as read, in the order given
    category: Mapped[str | None] = mapped_column(String(30))
    calibre_mm: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[str | None] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    date_from: Mapped[str | None] = mapped_column(String(10))  # YYYY, YYYY-MM or date
    date_to: Mapped[str | None] = mapped_column(String(10))
    source_kind: Mapped[str] = mapped_column(String(20))
    source_url: Mapped[str | None] = mapped_column(Text)
    source_publication: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # The ranked candidates with their explanations, as identification gave them then.
    candidates: Mapped[dict[str, object]] = mapped_column(JSON)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="RESTRICT"), index=True
    )
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    photos: Mapped[list[ObservationPhoto]] = relationship(
        back_populates="observation", order_by="ObservationPhoto.position"
    )
    entry: Mapped[Entry | None] = relationship()


class ObservationPhoto(Base):
    """A photo of an observation: the original as received, kept apart for editors, and the
    working copy stripped of its metadata."""

    __tablename__ = "observation_photos"
    __table_args__ = (UniqueConstraint("observation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int]
    filename: Mapped[str | None] = mapped_column(Text)  # as the contributor named it
    original_sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_key: Mapped[str] = mapped_column(Text)  # where the original is in the store
    original_media_type: Mapped[str] = mapped_column(String(40))
    original_byte_size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the stripped copy
    media_type: Mapped[str] = mapped_column(String(40))
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    phash: Mapped[str] = mapped_column(String(16))

    observation: Mapped[Observation] = relationship(back_populates="photos")


class ObservationRevision(Base):
    """One step of an observation's review, immutable: who, when, why, and the observation
    as it stood after it. The comments of the thread are steps too."""

    __tablename__ = "observation_revisions"
    __table_args__ = (
        UniqueConstraint("observation_id", "number"),
        one_of("action", vocab.ObservationAction),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text)  # why, or the comment itself
    state: Mapped[str] = mapped_column(String(20))  # the state after this step
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CustodyEntry(Base):
    """One line of the chain of custody of an evidence file. Append-only: the database
    refuses to update or delete a line (migration 0007_field's triggers)."""

    __tablename__ = "custody_log"
    __table_args__ = (one_of("action", vocab.CustodyAction),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(String(12))
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the file it is about
    # Where the file is in the store, for the lines that record a file (received, derived).
    file_key: Mapped[str | None] = mapped_column(Text)
    derived_from: Mapped[str | None] = mapped_column(String(64))  # the original's hash
    actor: Mapped[str] = mapped_column(String(80))  # the key's name
    source_url: Mapped[str | None] = mapped_column(Text)  # where it was captured from
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # A hash chain per observation (custody.line_hash): a line changed or removed around
    # the service breaks it, and `weaponsdb verify` says where.
    previous_sha256: Mapped[str | None] = mapped_column(String(64))
    line_sha256: Mapped[str] = mapped_column(String(64))
