"""Certificate dates and verification codes: the arithmetic the register needs, nothing stored.

Expiry: a validity of N years ends on the same calendar day N years after certification, counted
as the Civil Code counts periods by years (Arts. 140 and 143: the day of certification is not
counted, and when the last month lacks the corresponding day the period ends on that month's last
day). A certificate dated 29 February 2024 with 3 years' validity therefore runs to 28 February
2027. A renewal adds N years to the previous expiry, so renewing early loses no time.

Verification codes: 12 characters of Crockford's base32 (no I, L, O or U, so they cannot be
misread), shown as XXXX-XXXX-XXXX. Eleven are random (``secrets``, 55 bits) and the last is a
Luhn mod-32 check character, which catches every single mistyped character and most swapped
neighbours before the register is even asked. The code is stored in the register; verification
is a look-up. We did not use an HMAC of the certificate id: verification must read the register
anyway (to answer valid or expired with the dates), and a secret key would add a thing to keep,
rotate and lose without making forgery harder than guessing 55 random bits.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from ..errors import CoordkitError

CERTIFICATE_PREFIX = "SC"          # SC-<year of certification>-<4-digit sequence>
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford base32
CODE_EXAMPLE = "7K3M-QX9A-2B46"


class RegisterError(CoordkitError):
    """The register cannot be opened, or a change to it is refused (the message says why)."""


# --- dates and codes -----------------------------------------------------------------------------

def expiry_date(start: dt.date, *, years: int) -> dt.date:
    """The last day of a validity of `years` years from `start` (see the module docstring):
    the same calendar day `years` later, or the month's last day if that month lacks the day."""
    from ..content.banks import _add_months   # the calendar-month arithmetic the answer keys use

    if isinstance(years, bool) or not isinstance(years, int) or years <= 0:
        raise RegisterError(f"a validity period must be a positive whole number of years (got {years!r})")
    return _add_months(start, 12 * years)


def _check_char(payload: str) -> str:
    """Luhn mod N (N = 32) check character for `payload` (characters of ALPHABET)."""
    n, total, factor = len(ALPHABET), 0, 2
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    """A fresh verification code in its normal form (12 characters, no hyphens)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(11))
    return payload + _check_char(payload)


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str:
    """The code as typed -> its normal form. Spaces and hyphens are ignored, case does not matter,
    O is read as 0 and I or L as 1. Raises RegisterError for something that is not a code, or a code
    whose check character does not match (a mistyped character). Full-width letters and digits (as a
    Japanese input method types them) are read as their ASCII forms (NFKC)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text))
    raw = re.sub(r"[\s\-‐‑–—−－ー_]", "", text).upper().translate(str.maketrans("OIL", "011"))
    bad = sorted({c for c in raw if c not in ALPHABET})
    if len(raw) != 12 or bad:
        why = f"it contains {''.join(bad)!r}" if bad else f"it has {len(raw)} characters, not 12"
        raise RegisterError(f"{text!r} is not a verification code ({why}); a code has 12 letters and digits "
                            f"like {CODE_EXAMPLE}, as printed on the certificate")
    if _check_char(raw[:11]) != raw[11]:
        raise RegisterError(f"{format_code(raw)} is not a valid verification code: its check character does "
                            "not match, so a character is probably mistyped; compare it with the certificate")
    return raw
