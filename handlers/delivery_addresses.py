"""A delivery address a courier can find: one that names a street or a place.

People type their phone number where the address is asked ("0812-3456-7890", "HP 0812…"),
or only the numbers of an address ("No. 12 RT 03/RW 02"); neither names where to go."""

from __future__ import annotations

import re

from handlers.phones import normalize_phone

# A run of letters, in any script: the words of an address.
_WORD = re.compile(r"[^\W\d_]+")
# Words that go with a number, name the city or label a phone: an address made of these and
# numbers alone names no street or place ("Jl. 5", "RT 03/RW 02", "Jakarta Selatan 12410").
_STREET_WORDS = {"alamat", "jl", "jln", "jalan", "gg", "gang", "street", "road"}
_NUMBER_WORDS = {"no", "nmr", "nomor", "nomer", "number", "rt", "rw", "lt", "lantai", "floor"}
_BLOCK_WORDS = {"blok", "blk", "block", "kav", "kavling", "kode", "pos", "kodepos"}
_AREA_WORDS = {"kel", "kelurahan", "kec", "kecamatan", "kota", "kab", "city", "indonesia"}
_CITY_WORDS = {"dki", "jakarta", "jkt", "jaksel", "jakbar", "jaktim", "jakut", "jakpus"}
_SIDE_WORDS = {"selatan", "utara", "barat", "timur", "pusat"}
_PHONE_WORDS = {"hp", "wa", "whatsapp", "telp", "tlp", "tel", "telepon", "telpon", "phone"}
_MARKERS = frozenset().union(
    _STREET_WORDS, _NUMBER_WORDS, _BLOCK_WORDS, _AREA_WORDS, _CITY_WORDS, _SIDE_WORDS, _PHONE_WORDS
)
# A street or place name is at least this long: "Ung" of Gg. Haji Ung, "Jl. Kopo".
_NAME_LENGTH = 3


def names_a_place(address: str) -> bool:
    """Whether `address` has a word that names a street or a place: one of letters, at least
    `_NAME_LENGTH` long and not a marker ("Jl. Melati 5 RT 03/RW 02", "Gg. Haji Ung No.12",
    "Perumahan Griya Asri Blok C-7" do; "RT 03/RW 02 No. 5" does not)."""
    return any(
        len(word) >= _NAME_LENGTH and word.casefold() not in _MARKERS
        for word in _WORD.findall(address)
    )


def is_phone_number(address: str) -> bool:
    """Whether `address` is a phone number and nothing else, perhaps with its label
    ("0812-3456-7890", "HP: 0812 3456 7890", "WA +62 812-3456-7890")."""
    words = _WORD.findall(address)
    if any(word.casefold() not in _MARKERS for word in words):
        return False
    return normalize_phone(_WORD.sub(" ", address).strip(" :.,-")) is not None
