"""Exceptions raised by the scanner. Only ``scanner.cli`` turns them into messages and exit codes."""

from __future__ import annotations


class ScannerError(Exception):
    """Root of every error the scanner raises on purpose."""

    exit_code = 1


class ConfigError(ScannerError):
    """``sources.yaml`` is missing, malformed or invalid. Carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class UsageError(ScannerError):
    """A command was called with arguments that cannot work."""

    exit_code = 2


class FetchError(ScannerError):
    """A source could not be fetched or parsed. The message is shown in ``scanner status``."""


class RobotsDisallowedError(FetchError):
    """robots.txt forbids the URL for our user agent."""


class ResponseTooLargeError(FetchError):
    """The body went over ``settings.max_bytes``."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (after retries)."""

    def __init__(self, message: str, status: int, body: bytes = b"") -> None:
        self.status = status
        self.body = body  # the start of the error response (an API's JSON error detail)
        super().__init__(message)


class BudgetExceededError(FetchError):
    """The source's total time budget (``settings.source_budget``) ran out."""


class RefusedURLError(FetchError):
    """A URL the scanner will not fetch: an internal address (not in ``settings.allow_hosts``), or a
    link off the source's own site (without ``follow_offsite``)."""


class ParseError(FetchError):
    """The content was fetched but is not what the source kind expects."""


class MissingDependencyError(ScannerError):
    """An optional backend's package is not installed; the message says which ``pip install`` fixes it."""


class RelevanceError(ScannerError):
    """Relevance cannot be computed (no topics, an item that does not exist)."""


class DeliveryError(ScannerError):
    """The digest was written but could not be delivered (e-mail)."""


class StoreError(ScannerError):
    """The database could not be opened or written."""


class LockedError(ScannerError):
    """Another scanner process holds the database lock."""

    exit_code = 4


class PublishError(ScannerError):
    """Some signals could not be published to another system (FTSS); each one's reason was printed."""
