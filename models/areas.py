"""Jakarta's administrative areas: the 44 kecamatan of its six kota/kabupaten administrasi, and
their kelurahan; names as people type them are checked against these."""

from __future__ import annotations

import csv
import difflib
import re
from functools import cache
from pathlib import Path

AREAS_CSV = Path(__file__).parent / "data" / "jakarta_kecamatan.csv"
KELURAHAN_CSV = Path(__file__).parent / "data" / "jakarta_kelurahan.csv"


class UnknownArea(ValueError):
    """A kota, kecamatan or kelurahan that Jakarta does not have; the message lists the valid
    names and suggests the closest. `typed` is the name as given, `suggestion` the closest valid
    name (or None) and `found_in` the kota of a kecamatan given under another kota."""

    def __init__(
        self, message: str, typed: str, suggestion: str | None, found_in: str | None = None
    ) -> None:
        super().__init__(message)
        self.typed = typed
        self.suggestion = suggestion
        self.found_in = found_in


@cache
def kecamatan_by_kota() -> dict[str, tuple[str, ...]]:
    with AREAS_CSV.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    kota: dict[str, list[str]] = {}
    for row in rows:
        kota.setdefault(row["kota_administrasi"], []).append(row["kecamatan"])
    return {name: tuple(kecamatan) for name, kecamatan in kota.items()}


@cache
def kelurahan_by_kecamatan() -> dict[str, tuple[str, ...]]:
    with KELURAHAN_CSV.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    kecamatan: dict[str, list[str]] = {}
    for row in rows:
        kecamatan.setdefault(row["kecamatan"], []).append(row["kelurahan"])
    return {name: tuple(kelurahan) for name, kelurahan in kecamatan.items()}


def kota_list() -> tuple[str, ...]:
    """The kota in the reference list's order: a button names one by its place here."""
    return tuple(kecamatan_by_kota())


@cache
def kecamatan_list() -> tuple[str, ...]:
    """Every kecamatan, kota by kota, in the reference list's order (names are unique)."""
    return tuple(name for names in kecamatan_by_kota().values() for name in names)


def kota_of(kecamatan: str) -> str:
    return _kota_of_kecamatan()[kecamatan]


@cache
def _kecamatan_of_kelurahan() -> dict[str, str]:
    # Kelurahan names are unique across Jakarta, so a name alone says where it is.
    return {
        kelurahan: kecamatan
        for kecamatan, names in kelurahan_by_kecamatan().items()
        for kelurahan in names
    }


@cache
def _kelurahan_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (name, re.compile(rf"(?<!\w){re.escape(name.casefold())}(?!\w)"))
        for name in _kecamatan_of_kelurahan()
    )


def kelurahan_in(address: str) -> tuple[str, str] | None:
    """The `(kecamatan, kelurahan)` an address names, when it names exactly one kelurahan.

    Names are matched as whole words, whatever the case. A name found only inside a longer
    one (Menteng in "Menteng Atas") does not count, nor one that is also the kecamatan of
    another kelurahan named ("Pegangsaan, Menteng"): both are read as the longer or finer
    place. Two kelurahan left is no answer: the address is ambiguous.
    """
    text = " ".join(address.split()).casefold()
    spans = {
        name: [(m.start(), m.end()) for m in pattern.finditer(text)]
        for name, pattern in _kelurahan_patterns()
    }
    spans = {name: found for name, found in spans.items() if found}
    inside_longer = {
        name
        for name, found in spans.items()
        for other, found_other in spans.items()
        if other != name and all(any(a <= s and e <= b for a, b in found_other) for s, e in found)
    }
    named = set(spans) - inside_longer
    of = _kecamatan_of_kelurahan()
    kecamatan_named_too = {name for name in named if any(of[k] == name for k in named - {name})}
    named -= kecamatan_named_too
    if len(named) != 1:
        return None
    (kelurahan,) = named
    return of[kelurahan], kelurahan


def is_known_area(kota: str, kecamatan: str) -> bool:
    return kecamatan in kecamatan_by_kota().get(kota, ())


def kota_named(typed: str) -> str:
    """The kota as Jakarta spells it, whatever the case it was typed in."""
    return _named("kota", typed, tuple(kecamatan_by_kota()))


def kecamatan_named(typed: str, kota: str | None = None) -> tuple[str, str]:
    """The kecamatan (of `kota`, when given) as Jakarta spells it, and its kota."""
    of_kota = {
        kecamatan: name
        for name, names in kecamatan_by_kota().items()
        if kota is None or name == kota
        for kecamatan in names
    }
    what = "kecamatan" + (f" in {kota}" if kota else "")
    if kota is not None and _found(typed, tuple(of_kota)) is None:
        # A kecamatan of another kota is no typing mistake: where it is answers best.
        elsewhere = _found(typed, tuple(_kota_of_kecamatan()))
        if elsewhere is not None:
            found_in = _kota_of_kecamatan()[elsewhere]
            hint = f"{elsewhere} is in {found_in}; "
            raise _unknown(what, typed, hint, tuple(of_kota), elsewhere, found_in)
    kecamatan = _named(what, typed, tuple(of_kota))
    return kecamatan, of_kota[kecamatan]


def kelurahan_named(typed: str, kecamatan: str) -> str:
    """The kelurahan of `kecamatan` as Jakarta spells it, whatever the case it was typed in."""
    names = kelurahan_by_kecamatan().get(kecamatan, ())
    return _named(f"kelurahan in {kecamatan}", typed, names)


@cache
def _kota_of_kecamatan() -> dict[str, str]:
    return {kecamatan: kota for kota, names in kecamatan_by_kota().items() for kecamatan in names}


def _found(typed: str, names: tuple[str, ...]) -> str | None:
    """The name as spelt in `names`, whatever the case and spacing it was typed in."""
    wanted = " ".join(typed.split()).casefold()
    return next((name for name in names if name.casefold() == wanted), None)


def _named(what: str, typed: str, names: tuple[str, ...]) -> str:
    found = _found(typed, names)
    if found is not None:
        return found
    by_lower = {name.casefold(): name for name in names}
    wanted = " ".join(typed.split()).casefold()
    closest = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.5)
    suggestion = by_lower[closest[0]] if closest else None
    hint = f"did you mean {suggestion}? " if suggestion else ""
    raise _unknown(what, typed, hint, names, suggestion)


def _unknown(
    what: str,
    typed: str,
    hint: str,
    names: tuple[str, ...],
    suggestion: str | None,
    found_in: str | None = None,
) -> UnknownArea:
    message = f"no {what} named {typed!r}: {hint}one of {', '.join(sorted(names))}"
    return UnknownArea(message, typed, suggestion, found_in)
