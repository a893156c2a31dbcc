"""The exception tree of simkl-import.

Every error the tool raises on purpose derives from `ImporterError`. Each
stage has its own subclass that carries the context a person needs to act:
the file, row and value for input errors, the request for API errors. The
CLI turns them into a one-line message and exit status 2 (bad input) or 1
(a failure during the run).
"""

from __future__ import annotations


class ImporterError(Exception):
    """Root of every error that simkl-import raises on purpose."""

    exit_code = 1
    retryable = False


class InputError(ImporterError):
    """Bad input from the user: a file, a row, a value or an option.

    The message names the file, row and value and the fix.
    Nothing has been written when this is raised.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.value = value
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            where = self.file if self.row is None else f"{self.file}, row {self.row}"
            parts.append(f"{where}: ")
        message = super().__str__()
        parts.append(message)
        if self.hint:
            separator = " " if message.endswith((".", ":", ";", "?", "!")) else ". "
            parts.append(f"{separator}{self.hint}")
        return "".join(parts)


class ReadError(InputError):
    """An export file that cannot be read: missing, unknown format, wrong kind."""


class MappingError(InputError):
    """A mapping file that is invalid, or that does not fit the file it maps."""


class ValidationError(InputError):
    """Input rows that break the events contract in a way that stops the run."""


class PlanError(ImporterError):
    """The plan broke one of its own invariants; this is a bug in the planner."""


class ResolveError(ImporterError):
    """Matching rows to Simkl items failed for a reason other than no match."""


class JournalError(ImporterError):
    """The SQLite journal is unreadable or belongs to another import."""


class ApiError(ImporterError):
    """A Simkl API call failed.

    `retryable` is True when sending the same request again can help (429,
    5xx and transport errors); `status` is the HTTP status or None when no
    response arrived. `outcome_unknown` is set when a write may have been
    applied although no usable response came back (5xx, timeout, dropped
    connection): the caller must read the account back before any resend.
    `retry_after` is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retryable: bool = False,
        outcome_unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.retryable = retryable
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        super().__init__(message)


class AuthError(ApiError):
    """Missing, invalid or revoked access token, or a failed PIN sign-in."""

    exit_code = 2
