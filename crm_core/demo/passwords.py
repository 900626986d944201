"""Password hashes for demo agents and admin users, in Werkzeug's format so the admin UI can verify them.

crm_core imports no web framework, so the hash is made with the standard
library: ``pbkdf2:sha256:<iterations>$<salt>$<hex digest>`` is exactly what
``werkzeug.security.check_password_hash`` reads.
"""

from __future__ import annotations

import hashlib
import random

#: Enough for demo passwords that are printed in the summary anyway, and fast to load.
ITERATIONS = 60_000
_SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def hash_password(password: str, rand: random.Random) -> str:
    """A Werkzeug-compatible PBKDF2-SHA256 hash of ``password`` with a salt drawn from ``rand``."""
    salt = "".join(rand.choice(_SALT_CHARS) for _ in range(16))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ITERATIONS).hex()
    return f"pbkdf2:sha256:{ITERATIONS}${salt}${digest}"


def check_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches a hash made by ``hash_password``."""
    method, salt, digest = password_hash.split("$", 2)
    _, algorithm, iterations = method.split(":")
    computed = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), int(iterations)).hex()
    return computed == digest
