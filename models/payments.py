"""A merchant's payment details: where buyers who chose transfer/QRIS send the money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.errors import Refusal
from models.people import Role

# The length of `products.photo_url`: a QRIS image is kept the way a product photo is.
MAX_QRIS = 500


class PaymentDetails(Base):
    """One row per merchant; any of bank account, e-wallet and QRIS may be missing, never all."""

    __tablename__ = "payment_details"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    bank: Mapped[str | None] = mapped_column(String(40))
    account_number: Mapped[str | None] = mapped_column(String(20))
    account_holder: Mapped[str | None] = mapped_column(String(80))
    ewallet: Mapped[str | None] = mapped_column(String(20))
    ewallet_phone: Mapped[str | None] = mapped_column(String(20))
    # A photo sent in the chat, as `chat.incoming.photo` holds it (like `products.photo_url`).
    qris_photo: Mapped[str | None] = mapped_column(String(MAX_QRIS))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))


@dataclass(frozen=True)
class Details:
    """Payment details as a merchant gives them and a buyer reads them (in outbox payloads)."""

    bank: str | None = None
    account_number: str | None = None
    account_holder: str | None = None
    ewallet: str | None = None
    ewallet_phone: str | None = None
    qris_photo: str | None = None

    @property
    def usable(self) -> bool:
        account = self.bank and self.account_number and self.account_holder
        return bool(account or (self.ewallet and self.ewallet_phone) or self.qris_photo)

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Details:
        fields = cls.__dataclass_fields__
        return cls(**{k: str(v) for k, v in data.items() if k in fields and v})


def _details(row: PaymentDetails) -> Details:
    return Details(
        row.bank,
        row.account_number,
        row.account_holder,
        row.ewallet,
        row.ewallet_phone,
        row.qris_photo,
    )


async def details_of(session: AsyncSession, merchant_id: int) -> Details | None:
    row = await session.get(PaymentDetails, merchant_id)
    return _details(row) if row is not None else None


async def merchants_without_details(session: AsyncSession, merchant_ids: list[int]) -> set[int]:
    """Which of these merchants cannot take a transfer: no payment details set."""
    rows = await session.scalars(
        select(PaymentDetails).where(PaymentDetails.merchant_id.in_(merchant_ids))
    )
    usable = {row.merchant_id for row in rows if _details(row).usable}
    return set(merchant_ids) - usable


async def set_details(
    session: AsyncSession, person_id: int, merchant_id: int, details: Details, now: datetime
) -> None:
    """Saves a merchant's details, replacing any before; only its operators may."""
    operator = await session.scalar(
        select(Role.id).where(
            Role.person_id == person_id, Role.role == "merchant", Role.merchant_id == merchant_id
        )
    )
    if operator is None:
        raise Refusal("not_an_operator")
    if not details.usable:
        raise Refusal("payment_details_empty")
    row = await session.get(PaymentDetails, merchant_id)
    if row is None:
        row = PaymentDetails(merchant_id=merchant_id)
        session.add(row)
    row.bank, row.account_number = details.bank, details.account_number
    row.account_holder = details.account_holder
    row.ewallet, row.ewallet_phone = details.ewallet, details.ewallet_phone
    row.qris_photo = details.qris_photo
    row.updated_at, row.updated_by = now, person_id
    await session.flush()
