"""The one exception of the policy package."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy file (or a lookup in a policy) is wrong.

    `problems` holds one line per mistake, each `FILE:LINE: what is wrong and what is
    expected`, so a command can print them as they are.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class UnknownPlanError(PolicyError, KeyError):
    """`policy.plan(id)` with an id the policy does not have (also a KeyError)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return "\n".join(self.problems)
