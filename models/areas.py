"""Jakarta's administrative areas: the 44 kecamatan of its six kota/kabupaten administrasi."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

AREAS_CSV = Path(__file__).parent / "data" / "jakarta_kecamatan.csv"


@cache
def kecamatan_by_kota() -> dict[str, tuple[str, ...]]:
    with AREAS_CSV.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    kota: dict[str, list[str]] = {}
    for row in rows:
        kota.setdefault(row["kota_administrasi"], []).append(row["kecamatan"])
    return {name: tuple(kecamatan) for name, kecamatan in kota.items()}


def is_known_area(kota: str, kecamatan: str) -> bool:
    return kecamatan in kecamatan_by_kota().get(kota, ())
