"""The rows `benchmarks.catalog` seeds: what Jakarta's UMKM sell, and merchants and products
generated from it at random (by a seeded `random.Random`, so a seed gives the same catalog)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from benchmarks.harness.seeding import creation_stamps
from models.areas import kecamatan_by_kota
from models.catalog import Category, search_text_for

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

MERCHANT_COLUMNS = ("id", "name", "kota", "kecamatan", "kelurahan", "contact_phone", "created_at")
PRODUCT_COLUMNS = (
    "id", "merchant_id", "category_id", "name", "description", "price", "stock", "unit",
    "photo_url", "active", "curated", "recent_sold", "search_text", "created_at",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Generated rows
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


def make_merchants(
    count: int, categories: list[Category], rng: random.Random, now: datetime, *, sqlite: bool
) -> tuple[Merchants, list[tuple[Any, ...]]]:
    areas = [(kota, kec) for kota, names in kecamatan_by_kota().items() for kec in names]
    table = _category_table(categories)
    stamps = creation_stamps(rng, now, sqlite=sqlite)
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
    stamps = creation_stamps(rng, now, sqlite=sqlite)
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
