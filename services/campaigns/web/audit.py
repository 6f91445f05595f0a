"""What the campaign audit read (`GET /campaigns/{id}/audit`, managers) reads and answers: the schemas every
service's audit read shares (shared/audit_web.py)."""
from __future__ import annotations

from shared.audit_web import AuditActorSchema, AuditEntrySchema, AuditQuerySchema, AuditTargetSchema

__all__ = ["AuditActorSchema", "AuditEntrySchema", "AuditQuerySchema", "AuditTargetSchema"]
