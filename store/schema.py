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
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    or_,
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
PERSON_STATUSES = ("followed", "left", "transferred", "deceased")


def counted(person_table):
    """The persons every headcount counts: those still followed (person.status; NULL counts as followed)."""
    return or_(person_table.c.status.is_(None), person_table.c.status == "followed")


def not_followed(person_table):
    return person_table.c.status.in_(PERSON_STATUSES[1:])
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
    # followed, or no longer followed: left (离任), transferred (调离), deceased (去世) on `status_on`.
    # Such persons leave every headcount but stay findable, with their history. NULL (a system
    # that lists every column and knows nothing of this one) counts as followed.
    Column("status", String(16), server_default="followed"),
    Column("status_on", Date),
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


# ---- The representatives' light front end (/m/): personal links, change requests, suggestions, records ----

# One row per person who was ever sent a personal link. `version` is the only valid link
# version: revoking or re-issuing bumps it, and every older link stops working.
rep_link = Table(
    "rep_link",
    metadata,
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("expires", Date, nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("issued_by", String(64)),
    Column("revoked_at", DateTime),
    # Wrong last-four answers since the link was issued; at the limit the link locks.
    Column("failed_tries", Integer, nullable=False, server_default="0"),
    Column("locked_at", DateTime),
    Column("confirmed_at", DateTime),
)

REP_REQUEST_KINDS = ("change", "confirm")
REP_FIELD_STATUSES = ("pending", "accepted", "rejected")

# A representative's correction of their own record (kind `change`, fields in rep_request_field)
# or their "my data is correct" (kind `confirm`, no fields, done at once).
rep_request = Table(
    "rep_request",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    # pending | done (every field decided)
    Column("status", String(16), nullable=False),
    Column("closed_at", DateTime),
    Index("ix_rep_request_person_id", "person_id", "submitted_at"),
    Index("ix_rep_request_status", "status", "submitted_at"),
)

# One proposed field of a change request: the value on record when proposed, the proposal, and
# staff's decision (the accepted value may be staff's edit of the proposal).
rep_request_field = Table(
    "rep_request_field",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rep_request.id", ondelete="CASCADE"), nullable=False),
    Column("field", String(32), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    # pending | accepted | rejected
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("accepted_value", Text),
    # Shown to the representative when rejected.
    Column("reason", Text),
    Column("decided_at", DateTime),
    Column("decided_by", String(64)),
    # The change set that wrote an accepted field.
    Column("change_set_id", Integer),
    Index("ix_rep_request_field_request_id", "request_id"),
)

SUGGESTION_KINDS = ("suggestion", "opinion")
SUGGESTION_STATUSES = ("received", "reviewing", "adopted", "forwarded", "declined")

# 建言献策 (suggestion) and 社情民意 (opinion) from a representative, and staff's handling.
rep_suggestion = Table(
    "rep_suggestion",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("topic", String(64)),
    # received | reviewing | adopted | forwarded | declined
    Column("status", String(16), nullable=False, server_default="received"),
    Column("assignee", String(64)),
    Column("reply", Text),
    Column("submitted_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(64)),
    Index("ix_rep_suggestion_person_id", "person_id", "submitted_at"),
    Index("ix_rep_suggestion_status", "status", "submitted_at"),
)

RECORD_KINDS = ("honour", "contribution", "welfare")
RECORD_STATUSES = ("pending", "accepted", "rejected")

# 荣誉 / 岗位建功 / 社会公益 a representative reports, pending until staff accept. The photo is
# re-encoded on upload (metadata stripped) and kept here, small.
rep_record = Table(
    "rep_record",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("body", Text, nullable=False),
    Column("photo", LargeBinary),
    Column("photo_type", String(32)),
    # pending | accepted | rejected
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("reason", Text),
    Column("submitted_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    Column("decided_by", String(64)),
    Index("ix_rep_record_person_id", "person_id", "submitted_at"),
    Index("ix_rep_record_status", "status", "submitted_at"),
)

SURVEY_STATUSES = ("draft", "open", "closed")
QUESTION_KINDS = ("single", "multiple", "rating", "text")

# A survey staff send to an audience chosen with the explorer's filters.
survey = Table(
    "survey",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("intro", Text),
    # Anonymous: answers keep the respondent's category and district only, never the person.
    Column("anonymous", Boolean, nullable=False, server_default="0"),
    # draft | open | closed
    Column("status", String(16), nullable=False, server_default="draft"),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64)),
)

survey_question = Table(
    "survey_question",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("survey.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    # single | multiple | rating (1-5) | text
    Column("kind", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    # JSON list of the choices (single, multiple).
    Column("options", Text),
    Index("ix_survey_question_survey_id", "survey_id", "position"),
)

# Who a survey was sent to, and whether they have answered (one answer each).
survey_recipient = Table(
    "survey_recipient",
    metadata,
    Column("survey_id", Integer, ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("sent_at", DateTime, nullable=False),
    Column("answered_at", DateTime),
    Index("ix_survey_recipient_person_id", "person_id", "survey_id"),
)

# One respondent's answers. `person_id` is empty for an anonymous survey; the place and category
# are kept for the scope and the cross-tabulation.
survey_response = Table(
    "survey_response",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("survey.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="SET NULL")),
    Column("category_code", String(32)),
    Column("district_code", String(12)),
    Column("street", String(64)),
    Column("submitted_at", DateTime, nullable=False),
    Index("ix_survey_response_survey_id", "survey_id"),
)

# One answer: a choice (one row per chosen option for a multiple choice), a rating or a text.
survey_answer = Table(
    "survey_answer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", Integer, ForeignKey("survey_response.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", Integer, ForeignKey("survey_question.id", ondelete="CASCADE"), nullable=False),
    Column("value", Text, nullable=False),
    Index("ix_survey_answer_question_id", "question_id", "value"),
    Index("ix_survey_answer_response_id", "response_id"),
)

# ---- Enterprises (external registry and vendor data), keyed by 统一社会信用代码 ----

SHAREHOLDER_KINDS = ("person", "enterprise", "other")
# 失信被执行人 · 法院公告/裁判文书 · 行政处罚 · 经营异常
RISK_KINDS = ("dishonest", "court", "penalty", "abnormal")
LINK_ROLES = ("legal_representative", "shareholder", "executive", "employee")
# How a person-enterprise link was made: the person's own credit-code cell, a normalised
# name match (a suggestion until staff confirm it), or staff by hand.
LINK_METHODS = ("credit_code", "name", "staff")

enterprise = Table(
    "enterprise",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # GB 32100, normalised (upper case, half-width); the natural key other systems use.
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # The name as matched (brackets half-width, 有限责任公司 -> 有限公司 …), for linking by name.
    Column("name_key", String(200), nullable=False),
    Column("legal_representative", String(64)),
    # In 万元 of `capital_currency`, as registries state it.
    Column("registered_capital", Float),
    Column("capital_currency", String(16)),
    Column("founded_on", Date),
    # As the registry words it: 存续 / 在业 / 注销 / 吊销 …
    Column("status", String(32)),
    Column("industry", String(100)),
    Column("address", String(300)),
    Column("source", String(64)),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_enterprise_name_key", "name_key"),
)

shareholder = Table(
    "shareholder",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    # person | enterprise | other
    Column("kind", String(16)),
    # 认缴出资额 in 万元; share in percent (0-100).
    Column("subscribed_amount", Float),
    Column("share", Float),
    Column("source", String(64)),
    Index("ix_shareholder_enterprise_id", "enterprise_id", "name"),
)

risk_record = Table(
    "risk_record",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False),
    # dishonest | court | penalty | abnormal
    Column("kind", String(16), nullable=False),
    # 案号 / 决定书文号; with kind and enterprise it names the record for re-imports.
    Column("case_number", String(100)),
    # 执行法院 / 处罚机关 / 列入机关
    Column("authority", String(100)),
    Column("filed_on", Date),
    # 生效法律文书确定的义务 / 处罚内容 / 列入原因
    Column("obligation", Text),
    # 履行情况: 全部未履行 / 部分履行 …
    Column("performance", String(32)),
    Column("published_on", Date),
    Column("source", String(64)),
    # The record's own date: publication, else filing.
    Column("recorded_on", Date),
    Index("ix_risk_record_enterprise_id", "enterprise_id", "kind"),
)

enterprise_link = Table(
    "enterprise_link",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False),
    # legal_representative | shareholder | executive | employee
    Column("role", String(24), nullable=False),
    # 1.0 for a credit-code or staff link; below 1 for a name match.
    Column("confidence", Float, nullable=False),
    # credit_code | name | staff
    Column("method", String(16), nullable=False),
    Column("confirmed_at", DateTime),
    Column("confirmed_by", String(64)),
    Column("created_at", DateTime, nullable=False),
    Index("ix_enterprise_link_person_id", "person_id", "enterprise_id", "role", unique=True),
    Index("ix_enterprise_link_enterprise_id", "enterprise_id"),
)

# Keys for the read-only JSON API (/api/v1/): created by admins, only a hash kept.
API_ACCESS = ("masked", "personal")

api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Who the key is for: another department's system, e.g. 区人大信息系统.
    Column("name", String(64), nullable=False),
    # SHA-256 of the key; the key itself is shown once, when created.
    Column("key_sha256", String(64), nullable=False, unique=True),
    # The key's first characters, to tell keys apart in lists and logs.
    Column("key_prefix", String(12), nullable=False),
    # masked: ID numbers and phones masked, birth year only; personal: in full.
    Column("access", String(16), nullable=False),
    # Comma-separated district codes the key reads; empty = the whole area.
    Column("scope_districts", Text, nullable=False, server_default=""),
    Column("created_by", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("last_used_at", DateTime),
)

# What the licensed enterprise-data service last answered per credit code, and when: a
# lookup within the refresh age is answered from here without calling the service.
provider_cache = Table(
    "provider_cache",
    metadata,
    Column("credit_code", String(18), primary_key=True),
    Column("fetched_at", DateTime, nullable=False),
    # found | not_found
    Column("status", String(16), nullable=False),
    # The service's JSON answer as received (for found).
    Column("body", Text),
)
