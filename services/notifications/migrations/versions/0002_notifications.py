"""What notifications knows (campaigns, applications' children, open and closed offers, subscriptions) and what
it tells (notifications, one delivery per channel).

Revision ID: notifications_0002
Revises: notifications_0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "notifications_0002"
down_revision = "notifications_0001"
branch_labels = None
depends_on = None

SCHEMA = "notifications"
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("opened_at", INSTANT),
        schema=SCHEMA,
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("child_first_name", sa.Text, nullable=False),
        sa.Column("child_last_name", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "open_offers",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("offer_id", sa.Uuid, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.Column("remind_at", INSTANT),
        sa.Column("reminded", sa.Boolean, nullable=False, server_default=sa.text("false")),
        schema=SCHEMA,
    )
    op.create_index("ix_open_offers_due", "open_offers", ["remind_at"], schema=SCHEMA,
                    postgresql_where=sa.text("NOT reminded AND remind_at IS NOT NULL"))
    op.create_table(
        "closed_offers",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        schema=SCHEMA,
    )
    op.create_table(
        "subscriptions",
        sa.Column("family_account", sa.String(255), primary_key=True),
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("subscribed_at", INSTANT, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_subscriptions_campaign", "subscriptions", ["campaign_id"], schema=SCHEMA)
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Uuid, primary_key=True),
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("cause_event_id", sa.String(64)),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", INSTANT, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.UniqueConstraint("position", name="uq_notifications_position"),
        sa.UniqueConstraint("dedup_key", name="uq_notifications_dedup_key"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_notifications_status"),
        schema=SCHEMA,
    )
    op.create_index("ix_notifications_due", "notifications", ["position"], schema=SCHEMA,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_notifications_failed", "notifications", ["updated_at"], schema=SCHEMA,
                    postgresql_where=sa.text("status = 'failed'"))
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("notification_id", sa.Uuid, sa.ForeignKey(f"{SCHEMA}.notifications.notification_id"),
                  nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("recipient", sa.Text),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("sent_at", INSTANT),
        sa.Column("read_at", INSTANT),
        sa.Column("printed_at", INSTANT),
        sa.UniqueConstraint("notification_id", "channel", name="uq_deliveries_notification_channel"),
        sa.CheckConstraint("channel IN ('inbox', 'email', 'letter')", name="ck_deliveries_channel"),
        schema=SCHEMA,
    )
    op.create_index("ix_deliveries_family_inbox", "deliveries", ["family_account", "created_at"], schema=SCHEMA,
                    postgresql_where=sa.text("channel = 'inbox'"))
    op.create_index("ix_deliveries_letters_to_print", "deliveries", ["created_at"], schema=SCHEMA,
                    postgresql_where=sa.text("channel = 'letter' AND printed_at IS NULL"))


def downgrade() -> None:
    for table in ("deliveries", "notifications", "subscriptions", "closed_offers", "open_offers", "applications", "campaigns"):
        op.drop_table(table, schema=SCHEMA)
