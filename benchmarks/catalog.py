"""Catalog at Jakarta scale: seed 280,000 merchants and 1,000,000 products, then browse.

    python -m benchmarks.catalog                                  # SQLite file in a temp dir
    python -m benchmarks.catalog --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m benchmarks.catalog --quick                          # 2,800 / 10,000, smoke run

The seeding runs in a child process (so the driver's peak RSS is the app's own) and bulk loads:
raw `sqlite3.executemany` in one transaction with the products indexes and search triggers
dropped (then recreated from their own `sqlite_master` SQL, the insert trigger replayed once as
one INSERT … SELECT over all products to fill the search index), or asyncpg
`copy_records_to_table` with the products indexes and foreign keys dropped and recreated from
their own definitions. Both end with ANALYZE.

The driver then calls `app.conversation.handle` directly, as every channel does, for residents
who open the catalog, page through a category, open product cards, search and add to the cart:
first one message at a time (one event loop, sequential awaits), then with several residents
at once (`asyncio.gather`). Each `handle` call is timed with `time.perf_counter`.

With `--explain`, a further short run times every SQL statement per action and prints the plan
of the slowest execution of each action's slowest statement (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from bot.bootstrap import App, build_app, init_database
from bot.settings import DatabaseSettings, Settings
from handlers.messages import Incoming, Reply
from models.areas import kecamatan_by_kota
from models.catalog import Category, search_text_for
from models.uow import UnitOfWork

FULL_MERCHANTS = 280_000
FULL_PRODUCTS = 1_000_000
QUICK_MERCHANTS = 2_800
QUICK_PRODUCTS = 10_000
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})

# --------------------------------------------------------------------------------------------
# Goals of the issue
# --------------------------------------------------------------------------------------------

ACTIONS = ("catalog_root", "category_page", "next_page", "product_card", "search", "add_to_cart")
P99_GOAL_MS = {
    "catalog_root": 20.0,
    "category_page": 20.0,
    "next_page": 20.0,
    "product_card": 20.0,
    "search": 50.0,
}
SQLITE_THROUGHPUT_GOAL = 300.0

# --------------------------------------------------------------------------------------------
# Word lists: what Jakarta's UMKM sell, by category slug (models/demo.py CATEGORIES)
# --------------------------------------------------------------------------------------------

# Category weights for products and merchants' main category, in percent.
CATEGORY_SHARE = {
    "makanan-minuman": 40,
    "fesyen-kerajinan": 25,
    "makanan-berat-rumah-tangga": 20,
    "produk-kesehatan": 15,
}

# (base name, unit, typical price in rupiah, modifier list, size list)
ITEMS: dict[str, tuple[tuple[str, str, int, str, str], ...]] = {
    "makanan-minuman": (
        ("Kopi Bubuk", "bungkus", 45_000, "kopi", "berat"),
        ("Biji Kopi", "bungkus", 85_000, "kopi", "berat"),
        ("Kopi Susu", "botol", 25_000, "kopi", "botol"),
        ("Es Kopi", "botol", 22_000, "kopi", "botol"),
        ("Teh Tarik", "botol", 18_000, "manis", "botol"),
        ("Keripik Singkong", "bungkus", 15_000, "rasa", "berat"),
        ("Keripik Pisang", "bungkus", 18_000, "rasa", "berat"),
        ("Keripik Tempe", "bungkus", 16_000, "rasa", "berat"),
        ("Kerupuk Udang", "bungkus", 25_000, "rasa", "berat"),
        ("Kerupuk Kulit", "bungkus", 22_000, "rasa", "berat"),
        ("Rempeyek Kacang", "toples", 30_000, "rasa", "toples"),
        ("Sambal Bawang", "botol", 30_000, "pedas", "toples"),
        ("Sambal Cumi", "botol", 45_000, "pedas", "toples"),
        ("Sambal Roa", "botol", 50_000, "pedas", "toples"),
        ("Sambal Teri", "botol", 35_000, "pedas", "toples"),
        ("Nastar", "toples", 95_000, "kue", "toples"),
        ("Kastengel", "toples", 110_000, "kue", "toples"),
        ("Putri Salju", "toples", 85_000, "kue", "toples"),
        ("Kue Lapis", "box", 60_000, "kue", "isi"),
        ("Klepon", "box", 15_000, "kue", "isi"),
        ("Bolu Pandan", "box", 45_000, "kue", "none"),
        ("Brownies Panggang", "box", 65_000, "kue", "none"),
        ("Dodol Betawi", "bungkus", 40_000, "manis", "berat"),
        ("Bir Pletok", "botol", 20_000, "manis", "botol"),
        ("Madu Mongso", "bungkus", 35_000, "manis", "berat"),
        ("Selai Srikaya", "toples", 35_000, "manis", "toples"),
        ("Sirup Markisa", "botol", 40_000, "manis", "botol"),
        ("Abon Sapi", "toples", 65_000, "pedas", "toples"),
        ("Kacang Mete", "toples", 90_000, "rasa", "toples"),
        ("Cokelat Batang", "pcs", 30_000, "kue", "berat"),
    ),
    "fesyen-kerajinan": (
        ("Kemeja Batik", "pcs", 185_000, "batik", "ukuran"),
        ("Dress Batik", "pcs", 275_000, "batik", "ukuran"),
        ("Kain Batik", "lembar", 250_000, "batik", "none"),
        ("Batik Tulis", "lembar", 650_000, "batik", "none"),
        ("Kain Tenun", "lembar", 350_000, "tenun", "none"),
        ("Songket", "lembar", 900_000, "tenun", "none"),
        ("Sarung Tenun", "lembar", 225_000, "tenun", "none"),
        ("Kebaya Encim", "pcs", 320_000, "kain", "ukuran"),
        ("Peci", "pcs", 45_000, "kain", "none"),
        ("Hijab", "pcs", 65_000, "kain", "none"),
        ("Syal Rajut", "pcs", 75_000, "kain", "none"),
        ("Tas Anyaman", "pcs", 120_000, "anyam", "none"),
        ("Tas Rotan", "pcs", 175_000, "anyam", "none"),
        ("Topi Pandan", "pcs", 55_000, "anyam", "none"),
        ("Tikar Pandan", "lembar", 95_000, "anyam", "none"),
        ("Dompet Kulit", "pcs", 150_000, "kulit", "none"),
        ("Sandal Kulit", "pasang", 135_000, "kulit", "sepatu"),
        ("Sepatu Kulit", "pasang", 325_000, "kulit", "sepatu"),
        ("Gelang Manik", "pcs", 25_000, "hias", "none"),
        ("Kalung Manik", "pcs", 45_000, "hias", "none"),
        ("Anting Etnik", "pasang", 35_000, "hias", "none"),
        ("Miniatur Ondel-ondel", "pcs", 85_000, "hias", "none"),
        ("Gantungan Kunci", "pcs", 10_000, "hias", "isi"),
        ("Vas Keramik", "pcs", 95_000, "hias", "none"),
        ("Wayang Golek", "pcs", 250_000, "hias", "none"),
    ),
    "makanan-berat-rumah-tangga": (
        ("Nasi Uduk", "porsi", 20_000, "lauk", "none"),
        ("Nasi Kebuli", "porsi", 35_000, "lauk", "none"),
        ("Rendang Sapi", "porsi", 45_000, "lauk", "none"),
        ("Soto Betawi", "porsi", 35_000, "lauk", "none"),
        ("Gado-gado", "porsi", 25_000, "lauk", "none"),
        ("Kerak Telor", "porsi", 25_000, "telor", "none"),
        ("Ayam Bakar", "porsi", 30_000, "lauk", "none"),
        ("Semur Jengkol", "porsi", 30_000, "lauk", "none"),
        ("Sayur Asem", "porsi", 15_000, "lauk", "none"),
        ("Bumbu Rendang", "bungkus", 15_000, "bumbu", "berat"),
        ("Bumbu Soto", "bungkus", 12_000, "bumbu", "berat"),
        ("Dimsum Beku", "pak", 45_000, "beku", "isi"),
        ("Nugget", "pak", 40_000, "beku", "berat"),
        ("Rendang Beku", "pak", 85_000, "beku", "berat"),
        ("Beras Pandan Wangi", "karung", 75_000, "beras", "beras"),
        ("Telur Asin", "pcs", 5_000, "telor", "isi"),
        ("Sabun Cuci Piring", "botol", 15_000, "sabun", "botol"),
        ("Sabun Batang", "pcs", 12_000, "sabun", "none"),
        ("Deterjen Cair", "botol", 25_000, "sabun", "botol"),
        ("Pewangi Pakaian", "botol", 20_000, "sabun", "botol"),
        ("Sapu Ijuk", "pcs", 30_000, "alat", "none"),
        ("Keset Kain", "pcs", 25_000, "alat", "none"),
        ("Lilin Aromaterapi", "pcs", 45_000, "sabun", "none"),
    ),
    "produk-kesehatan": (
        ("Jamu Kunyit Asam", "botol", 15_000, "jamu", "botol"),
        ("Jamu Beras Kencur", "botol", 15_000, "jamu", "botol"),
        ("Jamu Temulawak", "botol", 17_000, "jamu", "botol"),
        ("Jamu Sirih", "botol", 17_000, "jamu", "botol"),
        ("Madu Hutan", "botol", 95_000, "madu", "botol"),
        ("Madu Klanceng", "botol", 150_000, "madu", "botol"),
        ("Madu Randu", "botol", 80_000, "madu", "botol"),
        ("Minyak Kayu Putih", "botol", 35_000, "minyak", "botol"),
        ("Minyak Telon", "botol", 30_000, "minyak", "botol"),
        ("Minyak Urut", "botol", 28_000, "minyak", "botol"),
        ("Balsem Herbal", "pcs", 20_000, "minyak", "none"),
        ("Wedang Uwuh", "bungkus", 25_000, "herbal", "isi"),
        ("Teh Herbal", "bungkus", 30_000, "herbal", "isi"),
        ("Jahe Merah Bubuk", "toples", 45_000, "herbal", "toples"),
        ("Temulawak Instan", "toples", 40_000, "herbal", "toples"),
        ("Kunyit Bubuk", "toples", 25_000, "herbal", "toples"),
        ("Sari Kurma", "botol", 55_000, "herbal", "botol"),
        ("Habbatussauda", "botol", 60_000, "herbal", "kapsul"),
        ("Propolis", "botol", 120_000, "herbal", "botol"),
        ("Sabun Herbal", "pcs", 25_000, "minyak", "none"),
        ("Lulur Rempah", "toples", 45_000, "minyak", "toples"),
        ("Daun Kelor Bubuk", "bungkus", 35_000, "herbal", "berat"),
        ("Masker Kain", "pcs", 15_000, "kain", "isi"),
    ),
}

MODIFIERS: dict[str, tuple[str, ...]] = {
    "kopi": (
        "Robusta",
        "Arabika",
        "Gayo",
        "Toraja",
        "Kintamani",
        "Gula Aren",
        "Original",
        "Luwak",
        "Bajawa",
        "Temanggung",
        "Tubruk",
    ),
    "rasa": (
        "Pedas",
        "Balado",
        "Original",
        "Manis",
        "Asin",
        "Keju",
        "Jagung Bakar",
        "Rumput Laut",
        "Pedas Manis",
        "Bawang",
    ),
    "pedas": ("Extra Pedas", "Pedas", "Sedang", "Original", "Level 5", "Khas Betawi", "Rumahan"),
    "kue": (
        "Pandan",
        "Cokelat",
        "Keju",
        "Original",
        "Gula Merah",
        "Durian",
        "Ubi Ungu",
        "Premium",
        "Rumahan",
    ),
    "manis": (
        "Original",
        "Gula Aren",
        "Jahe",
        "Pandan",
        "Durian",
        "Khas Betawi",
        "Rumahan",
        "Premium",
    ),
    "batik": (
        "Betawi",
        "Motif Ondel-ondel",
        "Motif Mega Mendung",
        "Motif Kawung",
        "Motif Parang",
        "Motif Nusa Kelapa",
        "Motif Tumpal",
        "Cap",
        "Tulis",
        "Pria",
        "Wanita",
        "Anak",
        "Lengan Panjang",
        "Lengan Pendek",
    ),
    "tenun": ("Ikat", "Sumba", "Troso", "Baduy", "Palembang", "Sutra", "Katun"),
    "kain": ("Betawi", "Katun", "Sutra", "Polos", "Bordir", "Pria", "Wanita", "Anak"),
    "anyam": ("Eceng Gondok", "Pandan", "Rotan", "Bambu", "Handmade", "Motif Betawi", "Natural"),
    "kulit": ("Kulit Asli", "Kulit Sapi", "Kulit Domba", "Handmade", "Pria", "Wanita"),
    "hias": ("Handmade", "Motif Betawi", "Ondel-ondel", "Mini", "Besar", "Warna-warni", "Natural"),
    "lauk": ("Betawi", "Pedas", "Spesial", "Komplit", "Rumahan", "Jumbo", "Hemat", "Bu Haji"),
    "telor": ("Telur Bebek", "Telur Ayam", "Spesial", "Asap"),
    "bumbu": ("Instan", "Rumahan", "Khas Padang", "Khas Betawi", "Tanpa Pengawet"),
    "beku": ("Ayam", "Udang", "Sapi", "Ikan", "Keju", "Original"),
    "beras": ("Premium", "Organik", "Cianjur", "Pulen"),
    "sabun": ("Lemon", "Jeruk Nipis", "Sereh", "Lavender", "Alami", "Ramah Lingkungan"),
    "alat": ("Bambu", "Handmade", "Kuat", "Besar", "Kecil"),
    "jamu": ("Segar", "Tanpa Gula", "Gula Aren", "Madu", "Original", "Rumahan"),
    "madu": ("Asli", "Murni", "Baduy", "Sumbawa", "Kalimantan", "Mentah", "Premium"),
    "minyak": ("Aroma Lavender", "Aroma Sereh", "Original", "Plus", "Bayi", "Hangat"),
    "herbal": ("Jahe", "Sereh", "Kayu Manis", "Original", "Organik", "Tanpa Gula"),
}

# (label, price factor)
SIZES: dict[str, tuple[tuple[str, float], ...]] = {
    "none": (),
    "berat": (("100 g", 0.5), ("250 g", 1.0), ("500 g", 1.8), ("1 kg", 3.2)),
    "botol": (("250 ml", 0.7), ("330 ml", 1.0), ("500 ml", 1.4), ("1 liter", 2.5)),
    "toples": (("toples kecil", 0.7), ("toples 250 g", 1.0), ("toples 500 g", 1.8)),
    "isi": (("isi 6", 0.7), ("isi 10", 1.0), ("isi 12", 1.2), ("isi 20", 1.9)),
    "ukuran": (("S", 1.0), ("M", 1.0), ("L", 1.05), ("XL", 1.1), ("All Size", 1.0)),
    "sepatu": (("no 38", 1.0), ("no 39", 1.0), ("no 40", 1.0), ("no 41", 1.0), ("no 42", 1.0)),
    "beras": (("5 kg", 1.0), ("10 kg", 1.9), ("25 kg", 4.5)),
    "kapsul": (("isi 60 kapsul", 1.0), ("isi 100 kapsul", 1.5), ("isi 200 kapsul", 2.7)),
}

MERCHANT_PREFIXES = {
    "makanan-minuman": ("Dapur", "Warung", "Kedai", "Toko Kue", "Kedai Kopi", "Rumah Camilan"),
    "fesyen-kerajinan": ("Griya Batik", "Sanggar", "Butik", "Galeri", "Kriya", "Rumah Tenun"),
    "makanan-berat-rumah-tangga": ("Warung", "Katering", "Rumah Makan", "Toko", "Dapur"),
    "produk-kesehatan": ("Rumah Jamu", "Toko Herbal", "Jamu", "Madu", "Herbal"),
}
HONORIFICS = ("Bu", "Pak", "Mak", "Bang", "Mpok", "Teh", "Kak", "Haji", "Ibu", "Mbak", "Mas")
GIVEN_NAMES = (
    "Siti",
    "Ani",
    "Rohim",
    "Jali",
    "Ijah",
    "Darmi",
    "Fitri",
    "Yanto",
    "Budi",
    "Ratna",
    "Sari",
    "Wati",
    "Joko",
    "Rina",
    "Dewi",
    "Agus",
    "Iwan",
    "Nur",
    "Yuli",
    "Eko",
    "Lastri",
    "Mamat",
    "Encum",
    "Romlah",
    "Sanusi",
    "Mirah",
    "Juned",
    "Ipah",
    "Oneng",
    "Rojali",
    "Atun",
    "Sabeni",
    "Hasan",
    "Indah",
    "Putri",
    "Dimas",
    "Rahmat",
    "Tuti",
    "Slamet",
    "Wulan",
)
BRANDS = (
    "Berkah",
    "Jaya",
    "Makmur",
    "Barokah",
    "Lestari",
    "Mandiri",
    "Sejahtera",
    "Sari Rasa",
    "Nusantara",
    "Sentosa",
    "Sumber Rejeki",
    "Citra",
    "Mekar",
    "Cahaya",
    "Amanah",
    "Bahagia",
)
TAGLINES = (
    "Dibuat setiap hari tanpa pengawet.",
    "Cocok untuk oleh-oleh dan hantaran.",
    "Resep keluarga sejak 1998.",
    "Bahan lokal pilihan dari petani Jawa Barat.",
    "Dikemas rapi, aman untuk dikirim.",
    "Produk binaan UMKM Jakarta.",
    "",
)

# What residents type after /cari, with weights: common product words, combinations,
# prefixes, merchant and place words, category words, and a few that find nothing.
SEARCHES: tuple[tuple[str, int], ...] = (
    ("kopi", 10),
    ("keripik", 8),
    ("batik", 8),
    ("madu", 6),
    ("sambal", 6),
    ("jamu", 6),
    ("kue", 3),
    ("rendang", 3),
    ("nasi uduk", 3),
    ("kopi gayo", 3),
    ("keripik pedas", 3),
    ("batik tulis", 3),
    ("madu hutan", 3),
    ("gula aren", 2),
    ("sambal roa", 2),
    ("jamu kunyit asam", 2),
    ("tas rotan", 2),
    ("kerak telor", 2),
    ("dodol betawi", 2),
    ("bir pletok", 2),
    ("minyak telon", 2),
    ("sabun", 2),
    ("kain tenun", 2),
    ("kebaya", 2),
    ("ondel", 2),
    ("kop", 2),
    ("kerip", 1),
    ("bu siti", 1),
    ("tebet", 1),
    ("durian", 1),
    ("makanan", 1),
    ("kesehatan", 1),
    ("kopi luwak arabika", 1),
    ("sandal kulit", 1),
    ("es doger", 1),
    ("seblak", 1),
)

MERCHANT_COLUMNS = ("id", "name", "kota", "kecamatan", "kelurahan", "contact_phone", "created_at")
PRODUCT_COLUMNS = (
    "id", "merchant_id", "category_id", "name", "description", "price", "stock", "unit",
    "photo_url", "active", "curated", "recent_sold", "search_text", "created_at",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Data generation
# --------------------------------------------------------------------------------------------


@dataclass
class Merchants:
    names: list[str]
    main_category: bytearray  # index into the categories list
    kecamatan: list[str]


def _category_table(categories: list[Category]) -> list[int]:
    """100 slots: a category's index appears as often as its share in percent."""
    table: list[int] = []
    for index, category in enumerate(categories):
        table += [index] * CATEGORY_SHARE.get(category.slug, 25)
    return table


def _stamps(rng: random.Random, now: datetime, count: int = 4096) -> list[datetime]:
    """A pool of creation instants over the last year."""
    return [now - timedelta(seconds=rng.randrange(365 * 86_400)) for _ in range(count)]


def sqlite_instant(value: datetime) -> str:
    # What SQLAlchemy's SQLite DateTime stores (models/base.py makes it naive UTC).
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def make_merchants(
    count: int, categories: list[Category], rng: random.Random, now: datetime, *, sqlite: bool
) -> tuple[Merchants, list[tuple[Any, ...]]]:
    areas = [(kota, kec) for kota, names in kecamatan_by_kota().items() for kec in names]
    table = _category_table(categories)
    stamps = [sqlite_instant(s) if sqlite else s for s in _stamps(rng, now)]
    merchants = Merchants([], bytearray(), [])
    rows = []
    random_ = rng.random
    for merchant_id in range(1, count + 1):
        category = table[int(random_() * 100)]
        kota, kecamatan = areas[int(random_() * len(areas))]
        prefix = rng.choice(MERCHANT_PREFIXES.get(categories[category].slug, ("Toko",)))
        if random_() < 0.6:
            name = f"{prefix} {rng.choice(HONORIFICS)} {rng.choice(GIVEN_NAMES)}"
        elif random_() < 0.5:
            name = f"{prefix} {rng.choice(BRANDS)} {kecamatan}"
        else:
            name = f"{prefix} {rng.choice(BRANDS)}"
        phone = f"+62812{rng.randrange(10_000_000, 100_000_000)}"
        merchants.names.append(name)
        merchants.main_category.append(category)
        merchants.kecamatan.append(kecamatan)
        rows.append((merchant_id, name, kota, kecamatan, None, phone, rng.choice(stamps)))
    return merchants, rows


def product_rows(
    count: int,
    merchants: Merchants,
    categories: list[Category],
    rng: random.Random,
    now: datetime,
    *,
    sqlite: bool,
) -> Iterator[tuple[Any, ...]]:
    """Products in id order, streamed: every merchant has one, the rest go mostly to a few."""
    table = _category_table(categories)
    items = [ITEMS.get(c.slug, ITEMS["makanan-minuman"]) for c in categories]
    stamps = [sqlite_instant(s) if sqlite else s for s in _stamps(rng, now)]
    yes, no = (1, 0) if sqlite else (True, False)
    n_merchants = len(merchants.names)
    random_, choice, expovariate = rng.random, rng.choice, rng.expovariate
    for product_id in range(1, count + 1):
        if product_id <= n_merchants:
            merchant = product_id - 1
        else:
            # Skewed: a few merchants list hundreds of products, most a handful.
            merchant = int(n_merchants * random_() ** 1.5)
        category = merchants.main_category[merchant]
        if random_() >= 0.85:
            category = table[int(random_() * 100)]
        base, unit, typical, modifiers, sizes = choice(items[category])
        name = base
        if random_() < 0.75:
            name += " " + choice(MODIFIERS[modifiers])
        factor = 1.0
        if SIZES[sizes] and random_() < 0.7:
            size, factor = choice(SIZES[sizes])
            name += " " + size
        price = max(1_000, round(typical * factor * (0.7 + 0.6 * random_()) / 500) * 500)
        stock = 0 if random_() < 0.04 else min(999, int(expovariate(1 / 40)) + 1)
        recent_sold = 0 if random_() < 0.7 else min(5_000, int(expovariate(1 / 12)) + 1)
        merchant_name = merchants.names[merchant]
        tagline = choice(TAGLINES)
        description = f"{name} dari {merchant_name}, {merchants.kecamatan[merchant]}. {tagline}"
        photo = f"https://picsum.photos/seed/jbl-{product_id}/600/600" if random_() < 0.85 else None
        yield (
            product_id,
            merchant + 1,
            categories[category].id,
            name,
            description.rstrip(),
            price,
            stock,
            unit,
            photo,
            yes if random_() < 0.97 else no,
            yes if random_() < 0.30 else no,
            recent_sold,
            search_text_for(name, merchant_name, categories[category]),
            choice(stamps),
        )


# --------------------------------------------------------------------------------------------
# Seeding (runs in a child process: `--seed-only`)
# --------------------------------------------------------------------------------------------


def app_settings(url: str) -> Settings:
    settings = Settings(database=DatabaseSettings(url=url))
    if settings.database.url != url:
        raise SystemExit(f"JBL_DATABASE__URL overrides --database-url ({settings.database.url})")
    return settings


async def migrate(url: str) -> list[Category]:
    """Migrates with the app's own `init_database` and returns the categories it added."""
    app = build_app(app_settings(url))
    try:
        await init_database(app, demo=False)
        async with UnitOfWork(app.sessions) as uow:
            categories = list(await uow.session.scalars(select(Category).order_by(Category.id)))
            uow.session.expunge_all()
        return categories
    finally:
        await app.close()


class Steps:
    """Timed seeding steps for the report."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int]] = []

    def run(self, name: str, rows: int = 0) -> _Step:
        return _Step(self, name, rows)


@dataclass
class _Step:
    steps: Steps
    name: str
    rows: int
    started: float = 0.0

    def __enter__(self) -> _Step:
        self.started = time.perf_counter()
        print(f"  {self.name} …", flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.started
        self.steps.rows.append((self.name, seconds, self.rows))
        rate = f", {self.rows / seconds:,.0f} rows/s" if self.rows else ""
        print(f"  {self.name}: {seconds:.2f} s{rate}", flush=True)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise SystemExit("a SQLite benchmark needs a file database")
    return Path(database)


_SCHEMA_OBJECTS = (
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('products', 'merchants')"
    " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
)
_INSERT_TRIGGER = re.compile(
    r"CREATE TRIGGER \S+ AFTER INSERT ON products(?: WHEN (?P<when>.+?))? BEGIN (?P<body>.+);"
    r" END",
    re.IGNORECASE | re.DOTALL,
)
_VALUES_INSERT = re.compile(
    r"INSERT INTO (?P<target>.+?) VALUES \((?P<values>.+)\)", re.IGNORECASE | re.DOTALL
)


def bulk_form(trigger_sql: str) -> list[str] | None:
    """An AFTER INSERT trigger on products as INSERT … SELECT over all products, or None.

    `INSERT INTO t(rowid, c) VALUES (f(new.x), new.c)` [WHEN g(new.y)] becomes
    `INSERT INTO t(rowid, c) SELECT f(new.x), new.c FROM products AS new [WHERE g(new.y)]`,
    in rowid order: what the trigger would have done row by row, in one statement. This keeps
    the benchmark right whatever the migration's search index (FTS5 table, key) looks like.
    """
    trigger = _INSERT_TRIGGER.fullmatch(" ".join(trigger_sql.split()))
    if trigger is None:
        return None
    statements = []
    for statement in trigger["body"].split("; "):
        insert = _VALUES_INSERT.fullmatch(statement.strip())
        if insert is None:
            return None
        where = f" WHERE {trigger['when']}" if trigger["when"] else ""
        statements.append(
            f"INSERT INTO {insert['target']} SELECT {insert['values']}"
            f" FROM products AS new{where} ORDER BY 1"
        )
    return statements


def fts_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    ).fetchall()
    return [name for (name,) in rows]


def seed_sqlite(url: str, merchants: int, products: int, seed: int) -> dict[str, Any]:
    path = sqlite_path(url)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    steps = Steps()
    with steps.run("migrate (init_database)"):
        categories = asyncio.run(migrate(url))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("PRAGMA temp_store=MEMORY")
        # The products/merchants indexes and search triggers, exactly as the migration made
        # them. Insert triggers are replayed in bulk after the load; one that cannot be
        # (not a plain INSERT … VALUES) stays in place and fires row by row.
        schema = connection.execute(_SCHEMA_OBJECTS).fetchall()
        replays: dict[str, list[str]] = {}
        dropped = []
        for kind, name, sql in schema:
            if kind == "trigger" and re.search(r"AFTER INSERT ON products", sql, re.IGNORECASE):
                bulk = bulk_form(sql)
                if bulk is None:
                    print(f"  keeping trigger {name} during the load (not replayable)")
                    continue
                replays[name] = bulk
            dropped.append((kind, name, sql))
        for kind, name, _sql in dropped:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        with steps.run("generate merchants", merchants):
            pool, merchant_rows = make_merchants(merchants, categories, rng, now, sqlite=True)
        marks = ", ".join("?" * len(MERCHANT_COLUMNS))
        connection.execute("BEGIN")
        with steps.run("insert merchants (executemany)", merchants):
            connection.executemany(
                f"INSERT INTO merchants ({', '.join(MERCHANT_COLUMNS)}) VALUES ({marks})",
                merchant_rows,
            )
        del merchant_rows
        marks = ", ".join("?" * len(PRODUCT_COLUMNS))
        with steps.run("generate + insert products (executemany)", products):
            connection.executemany(
                f"INSERT INTO products ({', '.join(PRODUCT_COLUMNS)}) VALUES ({marks})",
                product_rows(products, pool, categories, rng, now, sqlite=True),
            )
        with steps.run("commit"):
            connection.execute("COMMIT")
        with steps.run("recreate indexes", products):
            for kind, _name, sql in dropped:
                if kind == "index":
                    connection.execute(sql)
        with steps.run(f"fill search index ({', '.join(fts_tables(connection))})", products):
            connection.execute("BEGIN")
            for statements in replays.values():
                for statement in statements:
                    connection.execute(statement)
            connection.execute("COMMIT")
        for kind, _name, sql in dropped:
            if kind == "trigger":
                connection.execute(sql)
        with steps.run("ANALYZE"):
            connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        assert connection.execute(_SCHEMA_OBJECTS).fetchall() == schema, "schema changed"
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM merchants), (SELECT count(*) FROM products)"
        ).fetchone()
        search = fts_tables(connection)[0]
        matches = connection.execute(
            f'SELECT count(*) FROM "{search}" WHERE "{search}" MATCH \'kopi\''
        ).fetchone()[0]
    finally:
        connection.close()
    return {
        "steps": steps.rows,
        "merchants": counts[0],
        "products": counts[1],
        "kopi_matches": matches,
        "size_bytes": sum(
            Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
        ),
        "schema_objects": [name for _kind, name, _sql in dropped],
        "replayed": {name: statements for name, statements in replays.items()},
    }


def pg_connect_args(url: str, database: str | None = None) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "database": database or parsed.database,
    }


def pg_database(url: str) -> str:
    name = make_url(url).database
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to benchmark on database {name!r}: use e.g. /bench")
    return name


async def prepare_postgres(url: str, reset: bool) -> str:
    """The named database (created if missing) with an empty `public` schema: jbl loads its
    demo catalog into an empty catalog only, and the figures are for that catalog. A schema
    that already has tables (another benchmark's seeded catalog, say) is only dropped when
    asked to. Returns the server's version."""
    import asyncpg

    name = pg_database(url)
    admin = await asyncpg.connect(**pg_connect_args(url, "postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
        version = await admin.fetchval("SHOW server_version")
    finally:
        await admin.close()
    connection = await asyncpg.connect(**pg_connect_args(url))
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        if tables and not reset:
            raise SystemExit(
                f"database {name!r} already has {tables} tables in its public schema: pass"
                " --reset-database to drop them, or name an empty or new database"
            )
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    return str(version)


@dataclass(frozen=True)
class Deferred:
    """Secondary indexes and foreign keys of tables, dropped for a bulk load (each one would
    be checked or updated per copied row) and recreated from their own definitions after."""

    indexes: list[Any]
    foreign_keys: list[Any]

    @property
    def names(self) -> list[str]:
        return [r["indexname"] for r in self.indexes] + [r["conname"] for r in self.foreign_keys]


async def secondary_indexes(connection: Any, tables: Sequence[str]) -> list[Any]:
    """The tables' indexes that back no primary key or unique constraint, as they are now."""
    return list(
        await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = ANY($1::text[]) AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"
            " ORDER BY indexname",
            list(tables),
        )
    )


async def drop_for_bulk_load(connection: Any, tables: Sequence[str]) -> Deferred:
    """Drops the tables' secondary indexes and foreign keys, as the migrations made them."""
    indexes = await secondary_indexes(connection, tables)
    foreign_keys = list(
        await connection.fetch(
            "SELECT conrelid::regclass::text AS tablename, conname,"
            " pg_get_constraintdef(oid) AS definition FROM pg_constraint"
            " WHERE conrelid = ANY($1::regclass[]) AND contype = 'f' ORDER BY conname",
            list(tables),
        )
    )
    for row in foreign_keys:
        await connection.execute(
            f'ALTER TABLE {row["tablename"]} DROP CONSTRAINT "{row["conname"]}"'
        )
    for row in indexes:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    return Deferred(indexes, foreign_keys)


async def recreate_after_bulk_load(connection: Any, deferred: Deferred) -> None:
    for row in deferred.indexes:
        await connection.execute(row["indexdef"])
    for row in deferred.foreign_keys:
        await connection.execute(
            f'ALTER TABLE {row["tablename"]} ADD CONSTRAINT "{row["conname"]}" {row["definition"]}'
        )


async def seed_postgres(url: str, merchants: int, products: int, seed: int) -> dict[str, Any]:
    import asyncpg

    steps = Steps()
    with steps.run("create database / reset public schema"):
        await prepare_postgres(url, reset=True)
    with steps.run("migrate (init_database)"):
        categories = await migrate(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(**pg_connect_args(url))
    try:
        # The products indexes (B-tree and GIN) and foreign keys.
        deferred = await drop_for_bulk_load(connection, ["products"])
        with steps.run("generate merchants", merchants):
            pool, merchant_rows = make_merchants(merchants, categories, rng, now, sqlite=False)
        with steps.run("copy merchants (copy_records_to_table)", merchants):
            await connection.copy_records_to_table(
                "merchants", records=merchant_rows, columns=MERCHANT_COLUMNS
            )
        del merchant_rows
        with steps.run("generate + copy products (copy_records_to_table)", products):
            await connection.copy_records_to_table(
                "products",
                records=product_rows(products, pool, categories, rng, now, sqlite=False),
                columns=PRODUCT_COLUMNS,
            )
        await connection.execute("SET maintenance_work_mem = '1GB'")
        with steps.run("recreate indexes (incl. GIN) + foreign keys", products):
            await recreate_after_bulk_load(connection, deferred)
        for table in ("merchants", "products"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        with steps.run("VACUUM (ANALYZE)"):
            await connection.execute("VACUUM (ANALYZE) merchants, products")
        recreated = await secondary_indexes(connection, ["products"])
        assert [tuple(r) for r in recreated] == [tuple(r) for r in deferred.indexes], (
            "indexes differ"
        )
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM merchants) AS merchants,"
            " (SELECT count(*) FROM products) AS products,"
            " (SELECT count(*) FROM products"
            "  WHERE search_vector @@ to_tsquery('simple'::regconfig, 'kopi:*')) AS kopi,"
            " pg_database_size(current_database()) AS size"
        )
    finally:
        await connection.close()
    return {
        "steps": steps.rows,
        "merchants": counts["merchants"],
        "products": counts["products"],
        "kopi_matches": counts["kopi"],
        "size_bytes": counts["size"],
        "schema_objects": deferred.names,
    }


def seed_main(args: argparse.Namespace) -> None:
    if args.database_url.startswith("sqlite"):
        report = seed_sqlite(args.database_url, args.merchants, args.products, args.seed)
    else:
        report = asyncio.run(
            seed_postgres(args.database_url, args.merchants, args.products, args.seed)
        )
    report["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path(args.seed_report).write_text(json.dumps(report), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Driving the conversation
# --------------------------------------------------------------------------------------------

CATEGORY = re.compile(r"c:\d+")
NEXT = re.compile(r"c:\d+:n:[01]:\d+:\d+")
PAGE = re.compile(r"c:\d+(?::[np]:[01]:\d+:\d+)?")
PRODUCT = re.compile(r"p:\d+")
ADD_ONE = re.compile(r"a:\d+:1")


class Exhausted(Exception):
    """The run's message budget is spent."""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_query: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished_at: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0

    @property
    def messages(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def _steady(self) -> tuple[float, float]:
        """From the 10th to the 90th percentile of completions: without ramp-up and -down."""
        done = sorted(self.finished_at)
        return done[len(done) // 10], done[len(done) * 9 // 10]

    @property
    def sustained_rate(self) -> float:
        """Messages per second in the steady middle 80 % of the run."""
        if self.messages < 50:
            return self.rate
        low, high = self._steady()
        return 0.8 * self.messages / (high - low) if high > low else self.rate

    def min_window_rate(self, window: float = 5.0) -> float | None:
        """The slowest full `window`-second stretch of the steady part, in messages/s."""
        if self.messages < 50:
            return None
        low, high = self._steady()
        full = int((high - low) // window)
        if full < 2:
            return None
        counts = [0] * full
        for at in self.finished_at:
            index = int((at - low) // window)
            if 0 <= index < full:
                counts[index] += 1
        return min(counts) / window


class Resident:
    def __init__(self, index: int) -> None:
        self.identity = f"console:warga{index:03d}"
        self.name = f"Warga {index}"
        self.replies: list[Reply] = []

    def payloads(self, pattern: re.Pattern[str]) -> list[str]:
        menu = next((r for r in reversed(self.replies) if r.buttons), None)
        return [b.payload for b in menu.buttons if pattern.fullmatch(b.payload)] if menu else []


class Driver:
    def __init__(self, app: App, stats: Stats, budget: int, tag: str) -> None:
        self.app = app
        self.stats = stats
        self.budget = budget
        self.tag = tag
        self.ids = itertools.count(1)
        # Unique across runs too: a message id the database has seen gets no answer.
        self.run = secrets.token_hex(4)
        self.profile: SqlProfile | None = None
        # Mean pause of a resident before each message (reading, thumbing), or none at all.
        self.think: float | None = None
        self.think_rng = random.Random(tag)

    async def send(
        self,
        resident: Resident,
        action: str,
        *,
        text: str | None = None,
        payload: str | None = None,
    ) -> list[Reply]:
        if self.budget <= 0:
            raise Exhausted
        self.budget -= 1
        if self.think:
            await asyncio.sleep(self.think_rng.expovariate(1 / self.think))
        incoming = Incoming(
            identity=resident.identity,
            message_id=f"bench-{self.run}-{self.tag}-{next(self.ids)}",
            text=text,
            payload=payload,
            display_name=resident.name,
        )
        if self.profile is not None:
            self.profile.action = action
        started = time.perf_counter()
        try:
            replies = await self.app.conversation.handle(incoming)
        except Exception:
            if not any(not key.endswith("(no reply)") for key in self.stats.errors):
                traceback.print_exc()  # the first exception only
            self.stats.errors[action] += 1
            replies = []
        if not replies:
            # Every message the benchmark sends deserves an answer.
            self.stats.errors[f"{action} (no reply)"] += 1
        finished = time.perf_counter()
        self.stats.latencies[action].append(finished - started)
        self.stats.finished_at.append(finished)
        if action == "search" and text:
            self.stats.by_query[text.split(" ", 1)[1]].append(finished - started)
        resident.replies = replies
        return replies


async def browse(driver: Driver, resident: Resident, rng: random.Random) -> None:
    """Catalog → a category → a few pages → a few product cards, some added to the cart."""
    await driver.send(resident, "catalog_root", payload="cat")
    categories = resident.payloads(CATEGORY)
    if not categories:
        driver.stats.notes["catalog_without_categories"] += 1
        return
    featured = rng.random() < 0.4
    await driver.send(
        resident,
        "category_page",
        payload=categories[0] if featured else rng.choice(categories),
    )
    while rng.random() < 0.55:
        following = resident.payloads(NEXT)
        if not following:
            driver.stats.notes["last_page_reached"] += 1
            break
        await driver.send(resident, "next_page", payload=following[0])
    cards = 1 + (rng.random() < 0.5) + (rng.random() < 0.25)
    for card in range(cards):
        products = resident.payloads(PRODUCT)
        if not products:
            driver.stats.notes["page_without_products"] += 1
            return
        await open_card(driver, resident, rng, rng.choice(products))
        if card < cards - 1:
            # Back to the page the card came from, by the card's (or the cart's) back button.
            pages = resident.payloads(PAGE)
            if not pages:
                return
            await driver.send(
                resident, "next_page" if ":n:" in pages[-1] else "category_page", payload=pages[-1]
            )


async def open_card(driver: Driver, resident: Resident, rng: random.Random, product: str) -> None:
    await driver.send(resident, "product_card", payload=product)
    add = resident.payloads(ADD_ONE)
    if not add:
        driver.stats.notes["card_without_add_button"] += 1
    elif rng.random() < 0.35:
        replies = await driver.send(resident, "add_to_cart", payload=add[0])
        if replies and "keranjang" not in replies[0].text.lower():
            driver.stats.notes["add_refused"] += 1


async def find(driver: Driver, resident: Resident, rng: random.Random) -> None:
    """/cari <words> → maybe a product card from the results, maybe added to the cart."""
    query = rng.choices([q for q, _ in SEARCHES], [w for _, w in SEARCHES])[0]
    await driver.send(resident, "search", text=f"/cari {query}")
    products = resident.payloads(PRODUCT)
    if not products:
        driver.stats.notes["search_without_results"] += 1
        return
    if rng.random() < 0.7:
        await open_card(driver, resident, rng, rng.choice(products))


async def session(driver: Driver, resident: Resident, rng: random.Random) -> None:
    searches = rng.random() < 0.6
    if searches and rng.random() < 0.5:
        await find(driver, resident, rng)
        searches = False
    await browse(driver, resident, rng)
    if searches:
        await find(driver, resident, rng)


async def worker(driver: Driver, residents: list[Resident], rng: random.Random) -> None:
    try:
        while True:
            await session(driver, rng.choice(residents), rng)
    except Exhausted:
        pass


async def run_phase(
    app: App,
    residents: list[Resident],
    messages: int,
    concurrency: int,
    seed: int,
    tag: str,
    profile: SqlProfile | None = None,
    think: float | None = None,
) -> Stats:
    stats = Stats()
    driver = Driver(app, stats, messages, tag)
    driver.profile = profile
    driver.think = think
    stats.started = time.perf_counter()
    if concurrency <= 1:
        await worker(driver, residents, random.Random(seed))
    else:
        # Each worker has its own residents, so no chat is used by two workers at once.
        await asyncio.gather(
            *(
                worker(driver, residents[w::concurrency], random.Random(seed + w))
                for w in range(concurrency)
            )
        )
    stats.finished = time.perf_counter()
    return stats


async def warm_up(app: App, residents: list[Resident]) -> Stats:
    """Every resident says /start once: their person, identity and chat state are created."""
    stats = Stats()
    driver = Driver(app, stats, len(residents), "warmup")
    stats.started = time.perf_counter()
    for resident in residents:
        await driver.send(resident, "start", text="/start")
    stats.finished = time.perf_counter()
    return stats


# --------------------------------------------------------------------------------------------
# SQL profile and plans (--explain)
# --------------------------------------------------------------------------------------------


class SqlProfile:
    """Times every statement the app runs, grouped by the benchmark action that ran it."""

    def __init__(self, app: App) -> None:
        self.engine = app.engine.sync_engine
        self.action = "?"
        self.timings: dict[tuple[str, str], list[tuple[float, Any]]] = defaultdict(list)
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        started = conn.info["bench_started"].pop()
        self.timings[(self.action, statement)].append((time.perf_counter() - started, parameters))


def short_sql(statement: str, width: int = 110) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def explain(app: App, residents: list[Resident], messages: int, seed: int) -> None:
    profile = SqlProfile(app)
    try:
        stats = await run_phase(app, residents, messages, 1, seed, "explain", profile)
    finally:
        profile.close()
    dialect = app.engine.dialect.name
    print(f"\n-- SQL per action ({stats.messages} messages, statements timed at the driver) --")
    for action in ACTIONS:
        handled = stats.latencies.get(action)
        if not handled:
            continue
        rows = [(stmt, t) for (a, stmt), t in profile.timings.items() if a == action]
        sql_total = sum(sum(d for d, _ in t) for _, t in rows)
        print(
            f"\n{action}: {len(handled)} messages, handle mean {mean_ms(handled):.2f} ms,"
            f" of which SQL {1000 * sql_total / len(handled):.2f} ms"
            f" in {sum(len(t) for _, t in rows) / len(handled):.1f} statements"
        )
        rows.sort(key=lambda r: -sum(d for d, _ in r[1]))
        for stmt, timings in rows[:6]:
            durations = [d for d, _ in timings]
            print(
                f"  {len(timings):5d}× mean {mean_ms(durations):7.2f} ms"
                f"  max {1000 * max(durations):7.2f} ms  {short_sql(stmt)}"
            )
        selects = [r for r in rows if r[0].lstrip().upper().startswith("SELECT")]
        if not selects:
            continue
        # The systematically slowest one (highest mean), with its slowest parameters.
        stmt, timings = max(selects, key=lambda r: sum(d for d, _ in r[1]) / len(r[1]))
        slowest, parameters = max(timings, key=lambda t: t[0])
        print(f"  plan of its slowest SELECT ({1000 * slowest:.2f} ms), parameters {parameters}:")
        print("    " + " ".join(stmt.split()))
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        async with app.engine.connect() as connection:
            result = await connection.exec_driver_sql(prefix + stmt, parameters)
            for row in result.all():
                print("    | " + (row[-1] if dialect == "sqlite" else row[0]))
            await connection.rollback()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def mean_ms(values: list[float]) -> float:
    return 1000 * sum(values) / len(values)


def print_latencies(title: str, stats: Stats) -> None:
    print(f"\n-- {title} --")
    print(f"{'action':<15}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    names = [a for a in (*ACTIONS, "start") if a in stats.latencies]
    for action in [*names, "all"]:
        values = (
            [v for vs in stats.latencies.values() for v in vs]
            if action == "all"
            else stats.latencies[action]
        )
        print(
            f"{action:<15}{len(values):>8}"
            + "".join(f"{1000 * percentile(values, p):>10.2f}" for p in (50, 95, 99))
            + f"{1000 * max(values):>10.2f}"
        )
    window = stats.min_window_rate()
    slowest = f", slowest 5 s window {window:,.0f} msg/s" if window is not None else ""
    print(
        f"throughput: {stats.messages} messages in {stats.seconds:.2f} s"
        f" = {stats.rate:,.0f} msg/s overall, {stats.sustained_rate:,.0f} msg/s sustained"
        f" (10th–90th percentile of completions){slowest}"
    )
    if stats.errors:
        print(f"ERRORS: {dict(stats.errors)}")
    if stats.notes:
        print(f"notes: {dict(sorted(stats.notes.items()))}")


def print_queries(stats: Stats) -> None:
    print("\nsearch by query (sequential run), slowest p99 first:")
    print(f"  {'query':<22}{'count':>7}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = sorted(stats.by_query.items(), key=lambda kv: -percentile(kv[1], 99))
    for query, values in rows:
        print(
            f"  {query:<22}{len(values):>7}{1000 * percentile(values, 50):>10.2f}"
            f"{1000 * percentile(values, 99):>10.2f}{1000 * max(values):>10.2f}"
        )


def goal_rows(
    label: str,
    stats: Stats,
    sqlite: bool,
    *,
    latency_goals: bool = True,
    offered: float | None = None,
) -> list[tuple[str, str, str, str]]:
    """`offered`: the phase was paced at that rate, so it can only show that it kept up."""
    rows = []
    for action, goal in P99_GOAL_MS.items():
        values = stats.latencies.get(action)
        if not values:
            continue
        p99 = 1000 * percentile(values, 99)
        verdict = ("PASS" if p99 <= goal else "FAIL") if latency_goals else "info"
        rows.append((f"{label}: {action} p99", f"≤ {goal:.0f} ms", f"{p99:.2f} ms", verdict))
    if offered is not None:
        verdict = "PASS" if stats.sustained_rate >= 0.95 * offered else "FAIL"
        goal = f"≥ 95% of {offered:,.0f}"
    elif sqlite:
        verdict = "PASS" if stats.sustained_rate >= SQLITE_THROUGHPUT_GOAL else "FAIL"
        goal = f"≥ {SQLITE_THROUGHPUT_GOAL:.0f} msg/s"
    else:
        verdict, goal = "info", "(SQLite goal)"
    rate = f"{stats.sustained_rate:,.0f} msg/s"
    rows.append((f"{label}: sustained throughput", goal, rate, verdict))
    errors = sum(stats.errors.values())
    rows.append((f"{label}: failed messages", "0", str(errors), "FAIL" if errors else "PASS"))
    return rows


def verdict_row(figure: str, goal: str, measured: str, passed: bool) -> tuple[str, str, str, str]:
    """A row of the goals table for a figure that has a goal."""
    return (figure, goal, measured, "PASS" if passed else "FAIL")


def remove_temp(temp_dir: str | None, keep: bool, database_url: str) -> None:
    """Removes the run's temporary database unless asked to keep it (then says where)."""
    if temp_dir and not keep:
        shutil.rmtree(temp_dir, ignore_errors=True)
    elif temp_dir:
        print(f"\nkept {database_url}")


def print_goals(rows: list[tuple[str, str, str, str]]) -> None:
    print("\n-- goals --")
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'figure':<{width}}{'goal':<16}{'measured':>14}  verdict")
    for name, goal, measured, verdict in rows:
        print(f"{name:<{width}}{goal:<16}{measured:>14}  {verdict}")


def kib_to_mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def drive_main(args: argparse.Namespace, sqlite: bool) -> list[tuple[str, str, str, str]]:
    app = build_app(app_settings(args.database_url))
    try:
        # A kept database (--no-seed) may predate the newest migration.
        await init_database(app, demo=False)
        if not sqlite:
            async with app.engine.connect() as connection:
                version = await connection.exec_driver_sql("SHOW server_version")
                print(f"PostgreSQL server {version.scalar()}")
        residents = [Resident(i) for i in range(args.residents)]
        stats = await warm_up(app, residents)
        print_latencies(f"warm-up: {len(residents)} residents send /start", stats)
        sequential = await run_phase(app, residents, args.messages, 1, args.seed, "seq")
        print_latencies(
            f"sequential run: {args.messages} messages, one event loop, sequential awaits",
            sequential,
        )
        print_queries(sequential)
        concurrent = await run_phase(
            app, residents, args.messages, args.concurrency, args.seed + 1000, "conc"
        )
        print_latencies(
            f"concurrent run: {args.messages} messages, {args.concurrency} residents at once"
            " (asyncio.gather), no pause between messages: a saturation test, latencies include"
            " queueing behind the others",
            concurrent,
        )
        # Every resident chats at once with human pauses, together offering `--rate` msg/s.
        think = len(residents) / args.rate
        paced = await run_phase(
            app, residents, args.messages, len(residents), args.seed + 3000, "paced", think=think
        )
        print_latencies(
            f"paced run: {len(residents)} residents at once, each pausing {think:.2f} s on"
            f" average (exponential) before each message: {args.rate:,.0f} msg/s offered",
            paced,
        )
        if args.explain:
            await explain(app, residents, args.explain_messages, args.seed + 2000)
    finally:
        await app.close()
    return (
        goal_rows("sequential", sequential, sqlite)
        + goal_rows(f"concurrent×{args.concurrency}", concurrent, sqlite, latency_goals=False)
        + goal_rows(
            f"paced {args.rate:,.0f}/s", paced, sqlite, latency_goals=False, offered=args.rate
        )
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.catalog", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--database-url",
        help="sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST:PORT/DB"
        " (default: a SQLite file in a temp dir; the database is re-seeded)",
    )
    parser.add_argument("--merchants", type=int, help=f"default {FULL_MERCHANTS:,}")
    parser.add_argument("--products", type=int, help=f"default {FULL_PRODUCTS:,}")
    parser.add_argument("--messages", type=int, help="per run (default 20,000; --quick 600)")
    parser.add_argument("--residents", type=int, default=200, help="distinct chat identities")
    parser.add_argument("--concurrency", type=int, default=8, help="residents at once")
    parser.add_argument(
        "--rate", type=float, default=300.0, help="msg/s offered by all residents in the paced run"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--quick", action="store_true", help="2,800 merchants, 10,000 products")
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file")
    parser.add_argument("--explain", action="store_true", help="profile SQL and print plans")
    parser.add_argument("--explain-messages", type=int, default=600)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed-report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.merchants = args.merchants or (QUICK_MERCHANTS if args.quick else FULL_MERCHANTS)
    args.products = args.products or (QUICK_PRODUCTS if args.quick else FULL_PRODUCTS)
    args.messages = args.messages or (600 if args.quick else 20_000)
    if args.products < args.merchants:
        parser.error("every merchant gets a product: --products must be ≥ --merchants")
    return args


def seed_in_child(args: argparse.Namespace) -> dict[str, Any]:
    options = ["--merchants", str(args.merchants), "--products", str(args.products)]
    return run_seeding("benchmarks.catalog", args.database_url, args.seed, options)


def run_seeding(module: str, database_url: str, seed: int, options: list[str]) -> dict[str, Any]:
    """Runs `python -m MODULE --seed-only` in a child process (so that the seeding's memory is
    not the measured process's) and returns the report it wrote, with its wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report_path = handle.name
    try:
        command = [
            sys.executable, "-m", module, "--seed-only", "--seed-report", report_path,
            "--database-url", database_url, "--seed", str(seed), *options,
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True)
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
        report["wall_seconds"] = time.perf_counter() - started
        return report
    finally:
        Path(report_path).unlink(missing_ok=True)


def print_seeding(report: dict[str, Any]) -> None:
    rows = report["merchants"] + report["products"]
    load = sum(s for name, s, _ in report["steps"] if not name.startswith(("migrate", "create")))
    print(
        f"\nseeded {report['merchants']:,} merchants + {report['products']:,} products"
        f" ({report['kopi_matches']:,} match 'kopi'),"
        f" database {report['size_bytes'] / 2**20:,.0f} MiB"
    )
    print(
        f"bulk load incl. indexes/search index/ANALYZE: {load:.1f} s = {rows / load:,.0f} rows/s;"
        f" whole seeding process {report['wall_seconds']:.1f} s"
        f" = {rows / report['wall_seconds']:,.0f} rows/s"
    )
    print(f"dropped and recreated around the load: {', '.join(report['schema_objects'])}")
    for name, statements in report.get("replayed", {}).items():
        for statement in statements:
            print(f"trigger {name} replayed in bulk as: {statement}")


def code_fingerprint() -> str:
    """A hash of the app's source (bot, handlers, models): which code these figures are for."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    newest = 0.0
    for package in ("bot", "handlers", "models"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    changed = datetime.fromtimestamp(newest).strftime("%Y-%m-%d %H:%M:%S")
    return f"{digest.hexdigest()[:12]} (newest file {changed})"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    temp_dir = None
    if not args.database_url:
        temp_dir = tempfile.mkdtemp(prefix="jbl-bench-")
        args.database_url = f"sqlite+aiosqlite:///{temp_dir}/catalog.db"
    sqlite = args.database_url.startswith("sqlite")
    if not sqlite:
        pg_database(args.database_url)
    if args.seed_only:
        seed_main(args)
        return
    try:
        fingerprint = code_fingerprint()
        print(
            f"== jbl catalog benchmark: {args.database_url} ==\n"
            f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
            f" {os.cpu_count()} CPUs, {platform.platform()}\n"
            f"app source (bot, handlers, models) {fingerprint}"
        )
        seed_rss = None
        if not args.no_seed:
            print(f"\n-- seeding {args.merchants:,} merchants, {args.products:,} products --")
            report = seed_in_child(args)
            print_seeding(report)
            seed_rss = report["peak_rss_kib"]
        goals = asyncio.run(drive_main(args, sqlite))
        print("\n-- memory (peak RSS, ru_maxrss) --")
        driver_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"driver process (app + benchmark, one event loop): {kib_to_mib(driver_rss)}")
        if seed_rss is not None:
            print(f"seeding process: {kib_to_mib(seed_rss)}")
        goals.append(("driver peak RSS", "(report)", kib_to_mib(driver_rss), "info"))
        print_goals(goals)
        if code_fingerprint() != fingerprint:
            print(f"\nWARNING: the app source changed during the run (now {code_fingerprint()})")
    finally:
        remove_temp(temp_dir, args.keep, args.database_url)


if __name__ == "__main__":
    main()
