"""Fast unique ids. os.urandom costs ~30 µs per call on this kind of VM; these ids need uniqueness, not secrecy,
so a per-process PRNG seeded once from os.urandom serves them."""

from __future__ import annotations

import os
import random

_rand = random.Random(os.urandom(32))
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def uuid4() -> str:
    """A random (version 4) UUID as its canonical string."""
    h = f"{(_rand.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def token(nbytes: int = 6) -> str:
    return f"{_rand.getrandbits(nbytes * 8):0{nbytes * 2}x}"


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def short_id(length: int = 10) -> str:
    """Lowercase letters and digits, as API Gateway's identifiers ("a1b2c3d4e5")."""
    return "".join(_rand.choice(_ALNUM) for _ in range(length))
