"""Typed domain errors with stable ``error_id`` strings the IVR and the UI map to prompts and messages.

Callers branch on the class or on ``error_id``, never on the message text.
``details`` carries the data a prompt or a form needs (which product, how many).
"""

from __future__ import annotations

from typing import Any


class CrmError(Exception):
    """Base of every domain error raised by ``crm_core`` services."""

    error_id = "crm-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as data, for JSON APIs and logs."""
        return {"error_id": self.error_id, "message": self.message, "details": self.details}


class NotFound(CrmError):
    error_id = "not-found"


class UnknownCustomer(NotFound):
    error_id = "unknown-customer"


class UnknownProduct(NotFound):
    error_id = "unknown-product"


class UnknownOrder(NotFound):
    error_id = "unknown-order"


class UnknownWarehouse(NotFound):
    error_id = "unknown-warehouse"


class UnknownAgent(NotFound):
    error_id = "unknown-agent"


class UnknownQueue(NotFound):
    error_id = "unknown-queue"


class UnknownComplaint(NotFound):
    error_id = "unknown-complaint"


class UnknownCallback(NotFound):
    error_id = "unknown-callback"


class InvalidInput(CrmError):
    error_id = "invalid-input"


class InvalidPhoneNumber(InvalidInput):
    error_id = "invalid-phone-number"


class InvalidQuantity(InvalidInput):
    error_id = "invalid-quantity"


class EmptyOrder(InvalidInput):
    error_id = "empty-order"


class ProductUnavailable(CrmError):
    error_id = "product-unavailable"


class InsufficientStock(CrmError):
    error_id = "insufficient-stock"


class InsufficientPoints(CrmError):
    error_id = "insufficient-points"


class IllegalTransition(CrmError):
    error_id = "illegal-transition"


class InvalidOrderNumber(InvalidInput):
    error_id = "invalid-order-number"


class MissingShippingInfo(InvalidInput):
    error_id = "missing-shipping-info"


class QuoteChanged(CrmError):
    """The prices or promotions changed between an order's read-back and its placing."""

    error_id = "quote-changed"


class CallbackTaken(CrmError):
    """Another agent holds this callback request."""

    error_id = "callback-taken"


class CustomerBlacklisted(CrmError):
    error_id = "customer-blacklisted"


class OrderNumberExhausted(CrmError):
    error_id = "order-number-exhausted"


class OrderNumberTaken(CrmError):
    error_id = "order-number-taken"


class InvalidRecipient(InvalidInput):
    """A message's recipient is not a phone number, fax number or e-mail address that can receive it."""

    error_id = "invalid-recipient"


class UnknownTemplate(NotFound):
    error_id = "unknown-template"


class InvalidTemplate(InvalidInput):
    """A template that cannot be rendered: bad placeholder syntax or a merge field nobody supplies."""

    error_id = "invalid-template"


class MissingMergeField(InvalidInput):
    """Merge data lacks a field the template uses."""

    error_id = "missing-merge-field"


class UnknownMessage(NotFound):
    error_id = "unknown-message"


class UnknownFax(NotFound):
    error_id = "unknown-fax"
