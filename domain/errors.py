"""The root of every rule violation the domain reports.

``db/`` raises these (never HTTP errors); ``web/`` shows ``str(error)``, which is always a complete
Japanese sentence a member can act on.
"""


class DomainError(Exception):
    """A business or input rule said no; the message is shown to the member as is."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class LoanError(DomainError):
    """A loan-engine rule refused the input (amount, rate, limit, due day)."""


class FieldError(DomainError):
    """A refusal about one form field: ``field`` names it (so the form can mark it), the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
