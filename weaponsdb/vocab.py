"""Controlled vocabularies shared by the schema, the interchange format and the API.

The database stores the enum *values* as plain strings guarded by CHECK constraints, so a
vocabulary can grow with a migration instead of a type change on PostgreSQL.
"""

from enum import StrEnum


class Category(StrEnum):
    RIFLE = "rifle"
    MACHINE_GUN = "machine gun"
    GRENADE_LAUNCHER = "grenade launcher"
    ROCKET_PROPELLED_GRENADE = "rocket-propelled grenade"
    ROCKET = "rocket"
    ARTILLERY_PROJECTILE = "artillery projectile"
    MORTAR_BOMB = "mortar bomb"
    CARTRIDGE = "cartridge"
    HAND_GRENADE = "hand grenade"
    MINE = "mine"
    MISSILE = "missile"
    OTHER = "other"


# Categories of explosive ordnance: their pages carry the safety notice (api/web/templates/
# _safety.html). A launcher or a rifle is not itself explosive; its ammunition is.
EXPLOSIVE = frozenset(
    {
        Category.ROCKET_PROPELLED_GRENADE,
        Category.ROCKET,
        Category.ARTILLERY_PROJECTILE,
        Category.MORTAR_BOMB,
        Category.HAND_GRENADE,
        Category.MINE,
        Category.MISSILE,
    }
)


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETRACTED = "retracted"


class Confidence(StrEnum):
    """How strongly a source supports a claim, from firmest to weakest."""

    CONFIRMED = "confirmed"  # established by several independent sources or physical evidence
    REPORTED = "reported"  # stated by the source, not independently confirmed
    INFERRED = "inferred"  # follows from what the source says, but the source does not say it
    DISPUTED = "disputed"  # stated by the source and contradicted elsewhere


class NameKind(StrEnum):
    NAME = "name"
    DESIGNATION = "designation"
    ALIAS = "alias"
    NICKNAME = "nickname"


class MarkingKind(StrEnum):
    MODEL_DESIGNATION = "model designation"
    CALIBRE_DESIGNATION = "calibre designation"
    FACTORY_CODE = "factory code"
    LOT = "lot or batch"
    YEAR = "year"
    SERIAL_FORMAT = "serial format"
    HEADSTAMP = "headstamp"
    WARNING_TEXT = "warning text"
    OTHER = "other"


class FeatureKind(StrEnum):
    SHAPE = "shape"
    CONSTRUCTION = "construction"
    COLOUR = "colour"
    DIMENSION = "dimension"
    MARKING_POSITION = "marking position"
    OTHER = "other"


class Diagnosticity(StrEnum):
    """How far a feature on its own narrows an identification."""

    CONCLUSIVE = "conclusive"  # identifies the item on its own
    STRONG = "strong"
    SUPPORTING = "supporting"
    WEAK = "weak"


class RelationKind(StrEnum):
    VARIANT_OF = "variant of"
    COPY_OF = "copy of"
    DERIVED_FROM = "derived from"
    FIRED_BY = "fired by"


class Quantity(StrEnum):
    LENGTH = "length"
    BARREL_LENGTH = "barrel length"
    DIAMETER = "diameter"
    WEIGHT = "weight"
    WEIGHT_LOADED = "weight loaded"
    EFFECTIVE_RANGE = "effective range"
    MAXIMUM_RANGE = "maximum range"


class Unit(StrEnum):
    MILLIMETRE = "mm"
    METRE = "m"
    KILOGRAM = "kg"
    GRAM = "g"


class SourceKind(StrEnum):
    NEWS_REPORT = "news report"
    OPINION = "opinion"
    ANALYSIS = "analysis"
    OFFICIAL = "official"
    BOOK = "book"
    REFERENCE = "reference"
    DATASET = "dataset"
    OTHER = "other"


class IdentifierScheme(StrEnum):
    """Where an identifier of an entry (or of a producer or source) comes from."""

    WIKIDATA = "wikidata"  # a Wikidata item, Q…
    COMMONS = "commons"  # a Wikimedia Commons file showing it: a photo lead, not downloaded


class PhotoView(StrEnum):
    SIDE = "side"
    FRONT = "front"
    REAR = "rear"
    TOP = "top"
    MARKINGS = "markings close-up"
    DETAIL = "detail"
    IN_USE = "in use"
    OTHER = "other"


class Role(StrEnum):
    """What an API key may do; each role may do everything the ones before it may."""

    CONTRIBUTOR = "contributor"  # submit observations and follow what became of them
    EDITOR = "editor"  # create and change entries and sources
    ADMIN = "admin"  # also retract entries


class Precision(StrEnum):
    """How precisely a place is known (or published): the coordinates stand for that much."""

    EXACT = "exact"  # where the item was, to a few metres
    PLACE = "place"  # a town, village or site
    REGION = "region"  # a province or district
    COUNTRY = "country"


class ObservationState(StrEnum):
    PENDING = "pending"  # waiting for an editor
    MORE_REQUESTED = "more requested"  # an editor asked the contributor for more
    LINKED = "linked"  # a documented instance of an entry
    DECLINED = "declined"  # with the reason; kept, never deleted


class ObservationSourceKind(StrEnum):
    URL = "url"  # found on the web: the address
    PUBLICATION = "publication"  # a report, book or article
    OWN = "own documentation"  # documented by the contributor in person


class ObservationAction(StrEnum):
    """The steps of an observation's review, each kept as a numbered revision."""

    SUBMITTED = "submitted"
    COMMENTED = "commented"
    MORE_REQUESTED = "more requested"
    ANSWERED = "answered"  # the contributor answered a request: pending again
    LINKED = "linked"
    DECLINED = "declined"


class CustodyAction(StrEnum):
    """What happened to an evidence file (Berkeley Protocol chain of custody)."""

    RECEIVED = "received"  # the original as it arrived
    DERIVED = "derived"  # a working copy made from it (stripped copy, thumbnails)
    VIEWED = "viewed"  # opened by a reviewer
    LINKED = "linked"  # the observation became a documented instance
    EXPORTED = "exported"  # the custody record was exported


def values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]
