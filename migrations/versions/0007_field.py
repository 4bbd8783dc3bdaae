"""Documented in the field: contributor keys, coordinates of instances, observations with
their photos and review steps, and the append-only custody log of their evidence files.

The custody log refuses UPDATE and DELETE by trigger on both databases, so that no code
path (the service, an import, plain SQL through the application's connection) edits it.

Revision ID: 0007_field
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007_field"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('editor', 'admin')"
ROLES_AFTER = "role IN ('contributor', 'editor', 'admin')"
PRECISIONS = "precision IN ('exact', 'place', 'region', 'country')"
CATEGORIES = (
    "category IN ('rifle', 'machine gun', 'grenade launcher', 'rocket-propelled grenade', "
    "'rocket', 'artillery projectile', 'mortar bomb', 'cartridge', 'hand grenade', 'mine', "
    "'missile', 'other')"
)
APPEND_ONLY_MESSAGE = "the custody log is append-only"


def _coordinate_checks(table: str) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f(f"ck_{table}_latitude_range")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f(f"ck_{table}_longitude_range")
        ),
        sa.CheckConstraint(
            "(latitude IS NULL AND longitude IS NULL AND precision IS NULL) OR "
            "(latitude IS NOT NULL AND longitude IS NOT NULL AND precision IS NOT NULL)",
            name=op.f(f"ck_{table}_coordinates_whole"),
        ),
        sa.CheckConstraint(PRECISIONS, name=op.f(f"ck_{table}_precision_vocab")),
    ]


def _coordinate_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("precision", sa.String(length=10), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_constraint(op.f("ck_api_keys_role_vocab"), type_="check")
        batch_op.create_check_constraint(op.f("ck_api_keys_role_vocab"), ROLES_AFTER)
    with op.batch_alter_table("instances") as batch_op:
        for column in _coordinate_columns():
            batch_op.add_column(column)
        for check in _coordinate_checks("instances"):
            batch_op.create_check_constraint(check.name, check.sqltext)  # type: ignore[arg-type]
    _create_observations()
    _create_observation_photos()
    _create_observation_revisions()
    _create_custody_log()
    _append_only()


def _create_observations() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submitter", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("markings", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("calibre_mm", sa.Numeric(precision=7, scale=2), nullable=True),
        *_coordinate_columns(),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("date_from", sa.String(length=10), nullable=True),
        sa.Column("date_to", sa.String(length=10), nullable=True),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_publication", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_coordinate_checks("observations"),
        sa.CheckConstraint(
            "state IN ('pending', 'more requested', 'linked', 'declined')",
            name=op.f("ck_observations_state_vocab"),
        ),
        sa.CheckConstraint(CATEGORIES, name=op.f("ck_observations_category_vocab")),
        sa.CheckConstraint(
            "source_kind IN ('url', 'publication', 'own documentation')",
            name=op.f("ck_observations_source_kind_vocab"),
        ),
        sa.CheckConstraint("calibre_mm > 0", name=op.f("ck_observations_calibre_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_observations_entry_id_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_observations_instance_id_instances"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    for column in ("submitter", "state", "entry_id", "instance_id"):
        op.create_index(op.f(f"ix_observations_{column}"), "observations", [column])


def _create_observation_photos() -> None:
    op.create_table(
        "observation_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("original_key", sa.Text(), nullable=False),
        sa.Column("original_media_type", sa.String(length=40), nullable=False),
        sa.Column("original_byte_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_photos_observation_id_observations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_photos")),
        sa.UniqueConstraint(
            "observation_id", "position", name=op.f("uq_observation_photos_observation_id_position")
        ),
    )
    for column in ("observation_id", "original_sha256", "sha256"):
        op.create_index(op.f(f"ix_observation_photos_{column}"), "observation_photos", [column])


def _create_observation_revisions() -> None:
    op.create_table(
        "observation_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('submitted', 'commented', 'more requested', 'answered', 'linked', "
            "'declined')",
            name=op.f("ck_observation_revisions_action_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_revisions_observation_id_observations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_revisions")),
        sa.UniqueConstraint(
            "observation_id", "number", name=op.f("uq_observation_revisions_observation_id_number")
        ),
    )
    op.create_index(
        op.f("ix_observation_revisions_observation_id"),
        "observation_revisions",
        ["observation_id"],
    )


def _create_custody_log() -> None:
    op.create_table(
        "custody_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_key", sa.Text(), nullable=True),
        sa.Column("derived_from", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=True),
        sa.Column("line_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "action IN ('received', 'derived', 'viewed', 'linked', 'exported')",
            name=op.f("ck_custody_log_action_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_custody_log_observation_id_observations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_log")),
    )
    op.create_index(op.f("ix_custody_log_observation_id"), "custody_log", ["observation_id"])
    op.create_index(op.f("ix_custody_log_sha256"), "custody_log", ["sha256"])


def _append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_custody_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER custody_log_append_only BEFORE UPDATE OR DELETE ON custody_log "
            "FOR EACH ROW EXECUTE FUNCTION refuse_custody_change()"
        )
        return
    for event in ("update", "delete"):
        op.execute(
            f"CREATE TRIGGER custody_log_no_{event} BEFORE {event.upper()} ON custody_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER custody_log_append_only ON custody_log")
        op.execute("DROP FUNCTION refuse_custody_change()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER custody_log_no_{event}")
    op.drop_table("custody_log")
    op.drop_table("observation_revisions")
    op.drop_table("observation_photos")
    op.drop_table("observations")
    with op.batch_alter_table("instances") as batch_op:
        for check in _coordinate_checks("instances"):
            batch_op.drop_constraint(check.name, type_="check")  # type: ignore[arg-type]
        for column in ("precision", "longitude", "latitude"):
            batch_op.drop_column(column)
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_constraint(op.f("ck_api_keys_role_vocab"), type_="check")
        batch_op.create_check_constraint(op.f("ck_api_keys_role_vocab"), ROLES_BEFORE)
