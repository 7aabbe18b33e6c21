"""Registry tables: GI products, enterprises, their authorizations, printers.

Status is never overwritten without a trace: every change is a row in a ``*_status_changes``
table that says who, when, why and from when it takes effect, so verification can ask what
the status was at any moment (when a label was issued, or now).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum
from gimark.core.generation import watch


class ProductKind(enum.StrEnum):
    """The three legal forms of a GI in China."""

    PROTECTED_PRODUCT = "protected-product"  # 地理标志保护产品
    CERTIFICATION_MARK = "certification-mark"  # 作为证明商标注册的地理标志
    COLLECTIVE_MARK = "collective-mark"  # 作为集体商标注册的地理标志


class Status(enum.StrEnum):
    """A party's or an authorization's status at some moment."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Action(enum.StrEnum):
    """What a status change did; ``reinstate`` returns a suspended party to active."""

    CREATE = "create"
    SUSPEND = "suspend"
    REVOKE = "revoke"
    REINSTATE = "reinstate"


class Product(Base):
    """A registered GI product."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductKind] = mapped_column(value_enum(ProductKind))
    reg_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    region: Mapped[str] = mapped_column(String(6))  # GB/T 2260
    holder: Mapped[str | None] = mapped_column(String(200))
    # Where it is sold: comma-separated GB/T 2260 codes (provinces or finer); empty: everywhere.
    sales_regions: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def sales_region_codes(self) -> tuple[str, ...]:
        """The sales regions as a tuple (empty: sold everywhere)."""
        return tuple(code for code in self.sales_regions.split(",") if code)


class StatusChangeMixin:
    """Columns shared by every status history table."""

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[Action] = mapped_column(value_enum(Action))
    status: Mapped[Status] = mapped_column(value_enum(Status))  # the status from effective_at on
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enterprise(Base):
    """An enterprise that may be authorized to use the special mark (用标企业)."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region: Mapped[str] = mapped_column(String(6))  # from the credit code, positions 3-8
    status: Mapped[Status] = mapped_column(value_enum(Status), default=Status.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    changes: Mapped[list[EnterpriseStatusChange]] = relationship(
        back_populates="enterprise", order_by="EnterpriseStatusChange.id"
    )


class EnterpriseStatusChange(StatusChangeMixin, Base):
    """One change of an enterprise's status."""

    __tablename__ = "enterprise_status_changes"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    enterprise: Mapped[Enterprise] = relationship(back_populates="changes")


class Authorization(Base):
    """An enterprise's right to use the mark on one product, for a period."""

    __tablename__ = "authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # None: open-ended
    status: Mapped[Status] = mapped_column(value_enum(Status), default=Status.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    product: Mapped[Product] = relationship()
    changes: Mapped[list[AuthorizationStatusChange]] = relationship(
        back_populates="authorization", order_by="AuthorizationStatusChange.id"
    )

    __table_args__ = (Index("ix_authorizations_enterprise_product", "enterprise_id", "product_id"),)


class AuthorizationStatusChange(StatusChangeMixin, Base):
    """One change of an authorization's status."""

    __tablename__ = "authorization_status_changes"

    authorization_id: Mapped[int] = mapped_column(ForeignKey("authorizations.id"), index=True)
    authorization: Mapped[Authorization] = relationship(back_populates="changes")


class Printer(Base):
    """An authorized printing company (印制企业)."""

    __tablename__ = "printers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    status: Mapped[Status] = mapped_column(value_enum(Status), default=Status.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# Verification caches the registry; every write to it must move the cache generation.
watch(Product, Enterprise, EnterpriseStatusChange, Authorization, AuthorizationStatusChange)
