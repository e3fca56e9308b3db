"""Bahasa Indonesia: the first language of jbl."""

TEXTS: dict[str, str] = {
    # Greeting, menus, help
    "welcome": (
        "Selamat datang di Jumat Beli Lokal! 🛍️\n"
        "Belanja produk UMKM Jakarta langsung dari chat, setiap hari — "
        "dan setiap Jumat ada kategori unggulan.\n\nMau apa hari ini?"
    ),
    "main_menu": "Menu utama. Silakan pilih:",
    "help": (
        "Cara memakai Jumat Beli Lokal:\n"
        "/katalog — katalog Jumat, kategori unggulan di atas\n"
        "/cari kata — cari produk, mis. /cari kopi\n"
        "/keranjang — lihat dan ubah keranjang, lalu checkout\n"
        "/pesanan — pesanan Anda dan statusnya\n"
        "/bahasa — ganti bahasa (English)\n"
        "/menu — kembali ke menu utama\n\n"
        "Di menu bernomor, ketik nomornya untuk memilih."
    ),
    "choose_language": "Pilih bahasa / Choose a language:",
    "language_name_id": "🇮🇩 Bahasa Indonesia",
    "language_name_en": "🇬🇧 English",
    "language_set": "Bahasa diganti ke Bahasa Indonesia. Silakan pilih:",
    "btn_catalog": "🛍️ Katalog Jumat",
    "btn_search": "🔎 Cari",
    "btn_cart": "🛒 Keranjang",
    "btn_orders": "📦 Pesanan saya",
    "btn_help": "❓ Bantuan",
    "btn_menu": "🏠 Menu",
    "btn_language": "🌐 Bahasa / Language",
    "btn_back": "⬅️ Kembali",
    "btn_cancel": "✖️ Batal",
    # Input that cannot be used
    "not_understood": (
        "Maaf, saya belum mengerti pesan itu. Pilih dari menu, atau ketik /cari diikuti "
        "nama produk (mis. /cari kopi)."
    ),
    "unknown_command": "Perintah /{command} tidak dikenal. Ketik /bantuan untuk daftar perintah.",
    "not_on_menu": "Nomor {number} tidak ada di menu. Ketik nomor 1 sampai {last}:",
    "stale_button": "Tombol itu sudah tidak berlaku. Ini menu terbaru:",
    "too_long": "Pesan terlalu panjang (maksimal {limit} karakter). Silakan kirim yang lebih singkat.",
    "blocked": "Maaf, akun Anda sedang diblokir dari layanan ini. Hubungi petugas Jakpreneur.",
    # Catalog
    "catalog_friday": (
        "🛍️ Katalog Jumat Beli Lokal\n{date} — kategori unggulan: {category}\n"
        "Belanja bisa setiap hari. Pilih kategori:"
    ),
    "catalog_today": (
        "🛍️ Hari ini Jumat Beli Lokal!\n{date} — kategori unggulan: {category}\nPilih kategori:"
    ),
    "featured_label": "⭐ {name}",
    "category_page": "{category} — pilih produk:",
    "category_empty": "Belum ada produk di {category}. Coba kategori lain.",
    "category_gone": "Kategori itu tidak ada. Silakan pilih dari katalog.",
    "btn_previous": "◀️ Sebelumnya",
    "btn_next": "Berikutnya ▶️",
    "btn_categories": "📚 Kategori",
    "card_merchant": "🏪 {merchant} — {area}",
    "card_price": "💰 {price} / {unit}",
    "stock_left": "📦 Stok: {stock} {unit}",
    "sold_out": "📦 Stok habis",
    "curated": "⭐ Pilihan kurator Jakpreneur",
    "btn_add_one": "➕ Tambah 1",
    "btn_choose_quantity": "🔢 Pilih jumlah",
    "product_gone": "Maaf, produk itu sudah tidak tersedia.",
    "product_gone_named": "Maaf, {product} sudah tidak tersedia. Hapus dari keranjang lalu coba lagi.",
    # Search
    "search_prompt": "Ketik nama produk, toko, atau kategori yang dicari (mis. kopi, batik, madu):",
    "search_results": "Hasil pencarian \u201c{query}\u201d:",
    "search_none": "Tidak ada produk untuk \u201c{query}\u201d. Coba kata lain.",
    "search_too_long": "Kata pencarian terlalu panjang (maksimal {limit} karakter). Coba lagi:",
    "btn_search_again": "🔎 Cari lagi",
    # Cart
    "ask_quantity": "Berapa {unit} {product}? Ketik angka 1 sampai {limit}.",
    "quantity_not_number": "Ketik jumlah sebagai angka, mis. 2 (maksimal {limit}).",
    "quantity_too_small": "Jumlah minimal 1.",
    "quantity_too_large": "Jumlah terlalu besar: maksimal {limit} per produk.",
    "not_enough_stock": "Stok {product} tidak cukup: tinggal {left}.",
    "added_to_cart": "✅ {quantity} × {product} masuk keranjang (total di keranjang: {in_cart}).",
    "btn_view_cart": "🛒 Lihat keranjang",
    "btn_continue_shopping": "⬅️ Lanjut belanja",
    "cart_heading": "🛒 Keranjang Anda",
    "cart_merchant": "🏪 {merchant}",
    "cart_line": "• {product} — {quantity} × {price} = {subtotal}",
    "cart_subtotal": "Subtotal: {subtotal}",
    "cart_total": "Total: {total} ({orders} pesanan, satu per toko)",
    "cart_empty": "Keranjang Anda masih kosong. Yuk lihat katalog Jumat!",
    "cart_cleared": "Keranjang sudah dikosongkan.",
    "cart_item": "{product}: {quantity} × {price}. Ubah jumlah:",
    "cart_item_gone": "Produk itu sudah tidak ada di keranjang.",
    "item_removed": "Produk dihapus dari keranjang.",
    "btn_edit_item": "✏️ {product}",
    "btn_checkout": "✅ Checkout",
    "btn_empty_cart": "🗑️ Kosongkan keranjang",
    "btn_plus_one": "➕ Tambah 1",
    "btn_minus_one": "➖ Kurangi 1",
    "btn_type_quantity": "🔢 Ketik jumlah",
    "btn_remove": "🗑️ Hapus",
    # Checkout
    "ask_name": "Checkout 1/4 — Atas nama siapa pesanan ini? Ketik nama penerima:",
    "ask_phone": "Checkout 2/4 — Nomor HP/WhatsApp penerima? (mis. 0812-3456-7890)",
    "ask_delivery": "Checkout 3/4 — Pesanan diantar atau diambil sendiri di toko?",
    "ask_address": "Ketik alamat pengantaran lengkap (jalan, nomor, RT/RW, kelurahan):",
    "ask_payment": "Checkout 4/4 — Bayar dengan cara apa?",
    "name_invalid": "Nama harus {low} sampai {high} karakter. Ketik lagi:",
    "phone_invalid": (
        "Nomor HP tidak valid. Ketik nomor Indonesia, mis. 0812-3456-7890 atau +62 812 3456 7890:"
    ),
    "address_invalid": "Alamat harus {low} sampai {high} karakter. Ketik lagi:",
    "btn_use": "Pakai: {value}",
    "btn_delivery": "🚚 Diantar",
    "btn_pickup": "🏪 Ambil sendiri",
    "btn_pay_cash": "💵 Bayar tunai saat terima",
    "btn_pay_transfer": "🏦 Transfer/QRIS ke penjual",
    "btn_cancel_checkout": "✖️ Batal checkout",
    "btn_confirm_order": "✅ Pesan sekarang",
    "btn_edit_details": "✏️ Ubah data",
    "summary_heading": "Ringkasan pesanan — periksa sebelum memesan:",
    "summary_contact": "👤 {name}, {phone}",
    "summary_delivery": "🚚 Diantar ke: {address}",
    "summary_pickup": "🏪 Diambil sendiri di toko",
    "summary_payment_cash": "💵 Bayar tunai saat terima/ambil",
    "summary_payment_transfer": "🏦 Transfer/QRIS ke penjual",
    "summary_outdated": "Ringkasan itu sudah berubah. Ini yang terbaru:",
    "checkout_cancelled": "Checkout dibatalkan. Isi keranjang tetap tersimpan.",
    "orders_placed": "✅ Terima kasih! Pesanan Anda sudah dibuat:",
    "orders_already_placed": "Pesanan ini sudah dibuat sebelumnya:",
    "placed_line": "#{order} — {merchant}: {total}",
    "orders_placed_next": "Penjual akan mengonfirmasi pesanan Anda. Cek statusnya di 📦 Pesanan saya.",
    # Orders
    "orders_heading": "📦 Pesanan Anda:",
    "orders_none": "Anda belum punya pesanan.",
    "order_line": "#{order} · {merchant} · {total} · {status}",
    "btn_order": "#{order}",
    "order_heading": "Pesanan #{order} — {merchant}",
    "order_status": "Status: {status}",
    "order_total": "Total: {total}",
    "btn_cancel_order": "✖️ Batalkan pesanan",
    "confirm_cancel": "Batalkan pesanan #{order}? Stok akan dikembalikan ke penjual.",
    "btn_yes_cancel": "Ya, batalkan",
    "btn_no_keep": "Tidak",
    "order_cancelled": "Pesanan #{order} dibatalkan.",
    "order_not_found": "Pesanan itu tidak ditemukan di akun Anda.",
    "order_not_in_state": "Pesanan #{order} tidak bisa diubah lagi: statusnya sekarang {status}.",
    "status_pending": "Menunggu konfirmasi penjual",
    "status_confirmed": "Dikonfirmasi penjual",
    "status_ready": "Siap diambil",
    "status_shipped": "Sedang diantar",
    "status_completed": "Selesai",
    "status_rejected": "Ditolak penjual",
    "status_cancelled": "Dibatalkan",
    "status_expired": "Kedaluwarsa",
    # Messages to merchants
    "notice_order_new": "🔔 Pesanan baru #{order} dari {name} ({phone}):\n{items}\nTotal: {total}",
    "notice_order_cancelled": "Pesanan #{order} dibatalkan oleh pembeli. Stok sudah dikembalikan.",
    # Telegram and other chat platforms
    "btn_share_phone": "📱 Kirim nomor saya",
    "toast_added": "Ditambahkan ke keranjang",
    "group_pointer": (
        "Halo! Belanja Jumat Beli Lokal dilakukan lewat chat pribadi dengan saya: {link}"
    ),
    "internal_error": "Maaf, ada gangguan di sistem kami. Silakan coba lagi sebentar lagi.",
    "merchant_page": "{merchant} ({area}) — pilih produk:",
    "merchant_empty": "{merchant} belum punya produk yang dijual.",
    "merchant_gone": "Toko itu tidak ditemukan.",
    "cmd_start": "Mulai dan menu utama",
    "cmd_catalog": "Katalog Jumat",
    "cmd_search": "Cari produk, mis. /cari kopi",
    "cmd_cart": "Keranjang belanja",
    "cmd_orders": "Pesanan saya",
    "cmd_language": "Ganti bahasa",
    "cmd_help": "Bantuan",
}
