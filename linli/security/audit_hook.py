"""Kept import path: ``audit_record`` lives in ``linli.security.audit`` (hash chain, verification)."""

from __future__ import annotations

from linli.security.audit import audit_record, audit_sensitive_read, client_ip

__all__ = ["audit_record", "audit_sensitive_read", "client_ip"]
