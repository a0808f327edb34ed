"""Per-company pseudonyms for participants (SPEC §2.5).

A company admin sees a beneficiary only as a short reference such as ``P-7KQ2MXD``. The
reference is a keyed permutation of the participant's id under the company's own secret
key (``companies.pseudonym_key``, random per company), so:

* it is stable for that company over time (the key never changes);
* two companies see unrelated references for the same person, so sponsors cannot join
  their data on it;
* it is reversible *with the company's key only*, so a company admin's search for a
  reference is an id lookup inside its own campaigns, with no table to keep in step.

The permutation is a balanced Feistel network (8 rounds, keyed BLAKE2s as the round
function — the Luby–Rackoff construction) over 36 bits, cycle-walked into the 35 bits
that seven characters of a 32-letter alphabet spell.
"""
from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

PREFIX = "P-"
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no look-alikes (0/O, 1/I)
LENGTH = 7
DOMAIN_BITS = 5 * LENGTH  # 35
_HALF_BITS = 18  # Feistel over 36 bits, cycle-walked into 35
_HALF_MASK = (1 << _HALF_BITS) - 1
_ROUNDS = 8
_DIGITS = {ch: i for i, ch in enumerate(ALPHABET)}


def new_pseudonym_key() -> str:
    return secrets.token_hex(32)


@lru_cache(maxsize=256)
def _round_functions(key: str) -> tuple:
    """One keyed BLAKE2s state per round (copied per call: cheaper than re-keying)."""
    secret = hashlib.sha256(key.encode()).digest()
    return tuple(hashlib.blake2s(key=secret, person=b"round" + bytes([n]), digest_size=4) for n in range(_ROUNDS))


def _f(state, half: int) -> int:  # noqa: ANN001
    h = state.copy()
    h.update(half.to_bytes(3, "big"))
    return int.from_bytes(h.digest(), "big") & _HALF_MASK


def _encrypt_block(rounds: tuple, value: int) -> int:
    left, right = value >> _HALF_BITS, value & _HALF_MASK
    for state in rounds:
        left, right = right, left ^ _f(state, right)
    return (left << _HALF_BITS) | right


def _decrypt_block(rounds: tuple, value: int) -> int:
    left, right = value >> _HALF_BITS, value & _HALF_MASK
    for state in reversed(rounds):
        left, right = right ^ _f(state, left), left
    return (left << _HALF_BITS) | right


def _walk(step, key: str, value: int) -> int:  # noqa: ANN001
    # Cycle walking: a permutation of 2^36 values restricted to the first 2^35 stays a permutation.
    rounds = _round_functions(key)
    value = step(rounds, value)
    while value >> DOMAIN_BITS:
        value = step(rounds, value)
    return value


@lru_cache(maxsize=65_536)  # a campaign page shows ~100 of them on every visit; each is 8 keyed hashes or more
def pseudonym(key: str, participant_id: int) -> str:
    """The reference the company with ``key`` sees for participant ``participant_id``."""
    if not 0 <= participant_id < 1 << DOMAIN_BITS:
        raise ValueError("participant id outside the pseudonym domain")
    number = _walk(_encrypt_block, key, participant_id)
    chars = [ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH))]
    return PREFIX + "".join(chars)


def participant_id_for(key: str, reference: str) -> int | None:
    """The participant id behind ``reference`` for this company's key, or None when the
    text is not a well-formed reference (case and surrounding spaces are forgiven)."""
    text = (reference or "").strip().upper()
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    if len(text) != LENGTH or any(ch not in _DIGITS for ch in text):
        return None
    number = 0
    for ch in text:
        number = (number << 5) | _DIGITS[ch]
    return _walk(_decrypt_block, key, number)
