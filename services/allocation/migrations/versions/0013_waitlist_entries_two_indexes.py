"""A waitlist entry's primary key led by its application (issue 18): (application_id, offer_id) rather than
(offer_id, application_id), and the index on application_id alone dropped, which that key now serves. Every read
of the entries goes by an offer in line order (`uq_waitlist_entries_offer_position`) or by an application (a
withdrawal leaving its waitlists; a promotion, application and offer); none by an offer and an application without
the position. A 100,000-application draw inserts about 100,000 entries into each index in one transaction: one
index fewer to keep. The key still refuses an application twice on one offer's waitlist.

Revision ID: allocation_0013
Revises: allocation_0012
"""
from alembic import op

revision = "allocation_0013"
down_revision = "allocation_0012"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.drop_constraint("pk_waitlist_entries", "waitlist_entries", type_="primary", schema=SCHEMA)
    op.create_primary_key("pk_waitlist_entries", "waitlist_entries", ["application_id", "offer_id"], schema=SCHEMA)
    op.drop_index("ix_waitlist_entries_application", "waitlist_entries", schema=SCHEMA)


def downgrade() -> None:
    op.create_index("ix_waitlist_entries_application", "waitlist_entries", ["application_id"], schema=SCHEMA)
    op.drop_constraint("pk_waitlist_entries", "waitlist_entries", type_="primary", schema=SCHEMA)
    op.create_primary_key("pk_waitlist_entries", "waitlist_entries", ["offer_id", "application_id"], schema=SCHEMA)
