"""The store's tables: a contract that other systems write into (see DESIGN.md).

SQLAlchemy Core tables rather than ORM classes: every read is an aggregate or a
page of rows, and every write is a bulk statement, so Core is the honest fit.
Names follow the contract exactly; tables this project adds for itself
(bookkeeping, undo, accounts) are additive and documented in the README.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

GENDERS = ("M", "F")
STAGES = ("discover", "cultivate", "use", "manage")
UPDATED_VIA = ("import", "staff", "self", "sync")
APPOINTMENT_BODIES = ("npc", "cppcc", "association", "other")
ACTIVITY_KINDS = ("training", "lecture", "onsite", "survey", "other")
# waitlisted, declined and withdrawn come with activities run online (store/activities.py).
PARTICIPATION_STATUSES = ("registered", "approved", "rejected", "checked_in", "absent", "waitlisted", "declined",
                          "withdrawn")
# An activity run online moves draft -> published -> finished, or to cancelled; NULL: recorded offline.
ACTIVITY_STATES = ("draft", "published", "finished", "cancelled")
ACTIVITY_AUDIENCES = ("open", "invited")
REGION_LEVELS = ("district", "street")

category = Table(
    "category",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("sort_order", Integer, nullable=False),
)

region = Table(
    "region",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(128)),
    Column("parent_code", String(12)),
    Column("level", String(16), nullable=False),
    Index("ix_region_parent_code", "parent_code"),
)

person = Table(
    "person",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("gender", String(1)),
    Column("ethnicity", String(32)),
    Column("birth_date", Date),
    Column("id_number", String(18), unique=True),
    Column("phone", String(32)),
    Column("party", String(16)),
    Column("category_code", String(32), ForeignKey("category.code"), nullable=False),
    Column("district_code", String(12)),
    Column("street", String(64)),
    Column("organization", String(200)),
    Column("position", String(200)),
    Column("education", String(32)),
    Column("title", String(64)),
    Column("stage", String(16), nullable=False, server_default="discover"),
    Column("source", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_via", String(16)),
    Column("import_batch_id", Integer),
    Index("ix_person_category_code", "category_code"),
    Index("ix_person_district_code", "district_code", "street"),
    Index("ix_person_stage", "stage"),
    Index("ix_person_updated_at", "updated_at"),
    Index("ix_person_name_birth_date", "name", "birth_date"),
    Index("ix_person_phone", "phone"),
)

tag = Table(
    "tag",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
)

person_tag = Table(
    "person_tag",
    metadata,
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves person -> tags; this serves tag -> persons.
    Index("ix_person_tag_tag_id", "tag_id", "person_id"),
)

stage_event = Table(
    "stage_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("entered_at", DateTime, nullable=False),
    Column("note", Text),
    Index("ix_stage_event_person_id", "person_id", "entered_at"),
    Index("ix_stage_event_stage", "stage", "entered_at"),
)

appointment = Table(
    "appointment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("body", String(16), nullable=False),
    Column("title", String(200)),
    Column("level", String(32)),
    Column("term_start", Date),
    Column("term_end", Date),
    Index("ix_appointment_person_id", "person_id"),
    Index("ix_appointment_term_end", "term_end"),
)

activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("organizer", String(200)),
    Column("district_code", String(12)),
    Column("starts_at", DateTime, nullable=False),
    Column("ends_at", DateTime),
    Column("capacity", Integer),
    Column("online", Boolean, nullable=False, server_default="0"),
    # ---- planning an activity run online (migration 0007); all NULL for activities recorded offline
    Column("street", String(64)),
    Column("place", String(200)),
    Column("online_link", String(500)),
    Column("signup_deadline", DateTime),
    Column("needs_review", Boolean, nullable=False, server_default="0"),
    Column("audience", String(16), nullable=False, server_default="open"),
    Column("state", String(16)),
    Column("cancel_reason", Text),
    # JSON list of custom questions (see store/activities.py `Question`).
    Column("questions", Text),
    Index("ix_activity_starts_at", "starts_at"),
    Index("ix_activity_title_starts_at", "title", "starts_at"),
)

participation = Table(
    "participation",
    metadata,
    Column("activity_id", Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("registered_at", DateTime),
    Column("checked_in_at", DateTime),
    # ---- online sign-up, review and check-in (migration 0007)
    Column("answers", Text),  # JSON object: question id -> answer
    Column("reason", Text),  # why rejected / declined / withdrawn
    Column("decided_at", DateTime),
    Column("decided_by", String(64)),
    # Bumped to withdraw every pass issued before (re-issue, withdrawal, rejection).
    Column("pass_version", Integer, nullable=False, server_default="1"),
    Column("checked_in_by", String(64)),
    # The check-in request's nonce: a retried request finds its own nonce and counts once.
    Column("checkin_nonce", String(64)),
    # The day of the latest check-in: a multi-day activity checks in once per day.
    Column("checkin_day", Date),
    # Something the person has still to be told (e.g. `promoted` from the wait list); NULL once told.
    Column("notice", String(16)),
    Index("ix_participation_person_id", "person_id", "status"),
    Index("ix_participation_status_registered_at", "status", "registered_at"),
    # Covering index for "active in the last N days" (measured 4x faster on SQLite).
    Index("ix_participation_checked_in_at", "checked_in_at", "person_id"),
    Index("ix_participation_registered_at", "registered_at", "person_id"),
)

import_batch = Table(
    "import_batch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("imported_by", String(64)),
    Column("rows_read", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Index("ix_import_batch_sha256", "sha256"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64)),
    Column("action", String(32), nullable=False),
    Column("detail", Text),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_action", "action", "at"),
)

# ---- Tables this project adds for itself (not part of the external contract) ----

# One row per key; `data_version` is bumped by every write this project makes,
# so caches keyed by it never serve stale aggregates.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# What an import changed, so `undo` can put it back: the person's previous values
# (JSON) for an update, nothing for an insert, plus the tags the batch added.
import_change = Table(
    "import_change",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("import_batch.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("previous", Text),
    Column("added_tags", Text),
    Index("ix_import_change_batch_id", "batch_id"),
    Index("ix_import_change_person_id", "person_id", "batch_id"),
)

# Local accounts (sign-in, role, district scope) and revocable tokens for lobby screens.
account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(64)),
    Column("password_hash", String(255)),
    Column("role", String(16), nullable=False),
    # Comma-separated district codes; empty = the whole area.
    Column("scope_districts", Text, nullable=False, server_default=""),
    # JSON list of [district_code, street name] pairs.
    Column("scope_streets", Text, nullable=False, server_default="[]"),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime),
)

screen_token = Table(
    "screen_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Only a hash is stored: a leaked database does not open the screens.
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(128)),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64)),
    Column("revoked_at", DateTime),
    Column("last_used_at", DateTime),
)

# A signed-in browser: the session cookie holds a random token, only its hash is kept here, so a
# session can be revoked (sign-out, disable, password reset) and expires with the idle timeout.
account_session = Table(
    "account_session",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of the cookie's token; empty until the browser has exchanged its handoff code.
    Column("token_sha256", String(64), unique=True),
    # SHA-256 of a one-time code the signed-in page exchanges for its cookie, and until when it may.
    Column("handoff_sha256", String(64), unique=True),
    Column("handoff_expires_at", DateTime),
    # password | oidc
    Column("method", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    # logout | idle | disabled | password
    Column("revoked_reason", String(16)),
    Index("ix_account_session_account_id", "account_id"),
)

ROLES = ("screen", "leader", "staff", "admin", "steward")

# The persons invited to an activity whose audience is `invited` (migration 0007).
invitation = Table(
    "invitation",
    metadata,
    Column("activity_id", Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("invited_at", DateTime, nullable=False),
    Index("ix_invitation_person_id", "person_id"),
)

# Which activities a steward account checks people in at; a steward sees nothing else (migration 0007).
steward_activity = Table(
    "steward_activity",
    metadata,
    Column("account_id", Integer, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("activity_id", Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("assigned_at", DateTime, nullable=False),
    Column("assigned_by", String(64)),
)

# Column mappings staff corrected on the import page, per header signature (a hash of the
# sheet's normalised header labels), so the next file from the same unit maps itself.
column_mapping = Table(
    "column_mapping",
    metadata,
    Column("signature", String(64), primary_key=True),
    # JSON list of the header labels the signature was made from, for people reading the table.
    Column("labels", Text, nullable=False),
    # JSON object: header label -> field name, or null for "do not read this column".
    Column("mapping", Text, nullable=False),
    Column("saved_at", DateTime, nullable=False),
    Column("saved_by", String(64)),
)

# ---- The write path (store/changes.py): every change is a change set of field-level rows ----

CHANGE_SOURCES = ("import", "staff", "self", "sync", "checkin", "merge")

# One change set: who changed what, why, through which channel; undone as a whole.
change_set = Table(
    "change_set",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    # import | staff | self | sync | checkin | merge
    Column("source", String(16), nullable=False),
    Column("actor", String(64)),
    Column("reason", Text),
    # done | undone; an undo is a change set of its own, named in `undone_by`.
    Column("status", String(16), nullable=False, server_default="done"),
    Column("undone_by", Integer),
    # The set this one undoes (an undo's inverse changes).
    Column("undoes", Integer),
    Column("import_batch_id", Integer),
    Index("ix_change_set_import_batch_id", "import_batch_id"),
)

# One changed field of one row (op `update`), or one whole row inserted or deleted.
# Values are JSON; `row_key` names the row (`17`, or `activity_id:person_id` for a participation).
change = Table(
    "change",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_set_id", Integer, ForeignKey("change_set.id", ondelete="CASCADE"), nullable=False),
    # person | person_tag | tag | stage_event | appointment | activity | participation
    Column("entity", String(16), nullable=False),
    Column("row_key", String(64), nullable=False),
    # The person the row belongs to: a person's history is the changes carrying its id.
    Column("person_id", Integer),
    # insert | update | delete
    Column("op", String(8), nullable=False),
    Column("field", String(32)),
    Column("old_value", Text),
    Column("new_value", Text),
    Index("ix_change_change_set_id", "change_set_id"),
    Index("ix_change_person_id", "person_id", "change_set_id"),
    Index("ix_change_row", "entity", "row_key", "change_set_id"),
)

