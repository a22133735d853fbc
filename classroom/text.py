"""Codes, secrets and names: how they are made, normalized, hashed and compared.

A join code is short and read off a projector, so its alphabet leaves out every character that
looks like another one (0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V): 19 characters, so a
6-character code is one of 47 million. The teacher's
secret is the only key to the teacher's actions: 192 bits from :mod:`secrets`, stored only as its
SHA-256 hash (a random secret of that size needs no slow password hash: nobody can guess it, and
the hash keeps a copy of the database from opening the teacher's controls), and compared in
constant time with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import secrets
import unicodedata

from .errors import InvalidInput

#: The join-code alphabet: upper-case letters and digits that no common font confuses with another.
CODE_ALPHABET = "ACEFHJKMNPRTWXY3479"
CODE_LENGTH = 6
#: Bytes of randomness in a teacher secret (192 bits) and in a student's token (144 bits).
SECRET_BYTES = 24
TOKEN_BYTES = 18
MAX_NAME_LENGTH = 20


def new_code() -> str:
    """A random join code, e.g. ``'K7PX3A'`` (6 characters of :data:`CODE_ALPHABET`).

    >>> code = new_code()
    >>> len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    True
    """
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: object) -> str:
    """The code a user typed, in canonical form (upper case, spaces and dashes dropped).

    Raises:
      InvalidInput: when it cannot be a code (wrong length or a character outside the alphabet).

    >>> normalize_code(" kpx-3a9 ")
    'KPX3A9'
    """
    text = "".join(ch for ch in str(raw).upper() if ch not in " -\t\r\n")
    if len(text) != CODE_LENGTH or not set(text) <= set(CODE_ALPHABET):
        raise InvalidInput(
            f"A room code has {CODE_LENGTH} characters, letters and digits as on the projector "
            f"(for example KPX3A9); check it and try again."
        )
    return text


def new_secret() -> str:
    """A teacher secret: 192 random bits, URL-safe (32 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_token() -> str:
    """A student's token: 144 random bits, URL-safe (24 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest under which a secret or token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: object, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    if not isinstance(secret, str) or not secret:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def sanitize_name(raw: object) -> str | None:
    """A student's optional name, cleaned: ``None`` when empty.

    Unicode control and format characters (category C: newlines, escapes, bidi overrides,
    zero-width characters) are removed, runs of white space become one space, the text is put
    in NFC form and stripped. Rendering it escaped is the page's job (:func:`name_html`).

    Raises:
      InvalidInput: when more than :data:`MAX_NAME_LENGTH` characters remain.

    >>> sanitize_name("  Ada\\u202e \\x1b[31m Lovelace\\n")
    'Ada [31m Lovelace'
    >>> sanitize_name("\\t ") is None
    True
    """
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > MAX_NAME_LENGTH:
        raise InvalidInput(f"A name has at most {MAX_NAME_LENGTH} characters (this one has {len(text)}).")
    return text


def name_html(name: str | None, anonymous: str = "anonymous") -> str:
    """A (sanitized) name escaped for HTML, or ``anonymous`` (escaped too) when there is none.

    >>> name_html("<b>Bo</b>")
    '&lt;b&gt;Bo&lt;/b&gt;'
    """
    return html.escape(name if name else anonymous, quote=True)


def finite_number(value: object, label: str) -> float:
    """``value`` as a finite float (a bool, a string or a non-finite number is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            import numpy as np  # numpy scalars are numbers too

            if not isinstance(value, np.integer | np.floating) or isinstance(value, np.bool_):
                raise TypeError
        except (ImportError, TypeError):
            raise InvalidInput(f"{label} must be a number.") from None
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise InvalidInput(f"{label} must be a finite number.")
    return number
