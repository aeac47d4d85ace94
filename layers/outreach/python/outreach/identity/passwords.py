"""argon2id password hashing at or above OWASP's floor (m = 19 MiB, t = 2, p = 1)."""

from __future__ import annotations

import secrets
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1


class Passwords:
    """Hash and verify passwords; verifying for an unknown user costs the same as a wrong one."""

    def __init__(
        self,
        *,
        memory_kib: int = ARGON2_MEMORY_KIB,
        time_cost: int = ARGON2_TIME_COST,
        parallelism: int = ARGON2_PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )

    @cached_property
    def _decoy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        """An argon2id hash (salted, with its parameters) of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password`` against ``stored_hash``; with no hash, do the same work and fail."""
        try:
            if stored_hash is None:
                self._hasher.verify(self._decoy_hash, password)
                return False
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Tell whether ``stored_hash`` was made with weaker parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)
