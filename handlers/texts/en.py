"""English: the second language of jbl."""

TEXTS: dict[str, str] = {
    # Greeting, menus, help
    "welcome": (
        "Welcome to Jumat Beli Lokal (Buy Local Friday)! 🛍️\n"
        "Shop products of Jakarta's small businesses right from the chat, any day — "
        "and every Friday features one category.\n\nWhat would you like to do?"
    ),
    "main_menu": "Main menu. Please choose:",
    "help": (
        "How to use Jumat Beli Lokal:\n"
        "/catalog — the Friday catalog, featured category on top\n"
        "/search words — find products, e.g. /search coffee\n"
        "/cart — see and change your cart, then check out\n"
        "/orders — your orders and their status\n"
        "/language — switch language (Bahasa Indonesia)\n"
        "/menu — back to the main menu\n\n"
        "In a numbered menu, type the number to choose."
    ),
    "choose_language": "Pilih bahasa / Choose a language:",
    "language_name_id": "🇮🇩 Bahasa Indonesia",
    "language_name_en": "🇬🇧 English",
    "language_set": "Language switched to English. Please choose:",
    "btn_catalog": "🛍️ Friday catalog",
    "btn_search": "🔎 Search",
    "btn_cart": "🛒 Cart",
    "btn_orders": "📦 My orders",
    "btn_help": "❓ Help",
    "btn_menu": "🏠 Menu",
    "btn_language": "🌐 Bahasa / Language",
    "btn_back": "⬅️ Back",
    "btn_cancel": "✖️ Cancel",
    # Input that cannot be used
    "not_understood": (
        "Sorry, I didn't understand that. Choose from the menu, or type /search followed by "
        "a product name (e.g. /search coffee)."
    ),
    "unknown_command": "I don't know the command /{command}. Type /help for the list.",
    "not_on_menu": "Number {number} is not on the menu. Type a number from 1 to {last}:",
    "stale_button": "That button is no longer valid. Here is the current menu:",
    "too_long": "That message is too long (at most {limit} characters). Please send a shorter one.",
    "blocked": "Sorry, your account is blocked from this service. Please contact Jakpreneur staff.",
    # Catalog
    "catalog_friday": (
        "🛍️ Jumat Beli Lokal catalog\n{date} — featured category: {category}\n"
        "You can buy any day. Choose a category:"
    ),
    "catalog_today": (
        "🛍️ It's Jumat Beli Lokal today!\n{date} — featured category: {category}\nChoose a category:"
    ),
    "featured_label": "⭐ {name}",
    "category_page": "{category} — choose a product:",
    "category_empty": "No products in {category} yet. Try another category.",
    "category_gone": "That category does not exist. Please choose from the catalog.",
    "btn_previous": "◀️ Previous",
    "btn_next": "Next ▶️",
    "btn_categories": "📚 Categories",
    "card_merchant": "🏪 {merchant} — {area}",
    "card_price": "💰 {price} / {unit}",
    "stock_left": "📦 In stock: {stock} {unit}",
    "sold_out": "📦 Sold out",
    "curated": "⭐ Jakpreneur curator's pick",
    "btn_add_one": "➕ Add 1",
    "btn_choose_quantity": "🔢 Choose quantity",
    "product_gone": "Sorry, that product is no longer available.",
    "product_gone_named": "Sorry, {product} is no longer available. Remove it from your cart and try again.",
    # Search
    "search_prompt": "Type a product, shop or category to look for (e.g. kopi, batik, madu):",
    "search_results": "Results for \u201c{query}\u201d:",
    "search_none": "No products found for \u201c{query}\u201d. Try another word.",
    "search_too_long": "That search is too long (at most {limit} characters). Try again:",
    "btn_search_again": "🔎 Search again",
    # Cart
    "ask_quantity": "How many {unit} of {product}? Type a number from 1 to {limit}.",
    "quantity_not_number": "Type the quantity as a number, e.g. 2 (at most {limit}).",
    "quantity_too_small": "The quantity must be at least 1.",
    "quantity_too_large": "That quantity is too large: at most {limit} per product.",
    "not_enough_stock": "Not enough stock of {product}: only {left} left.",
    "added_to_cart": "✅ {quantity} × {product} added to your cart ({in_cart} in the cart now).",
    "btn_view_cart": "🛒 View cart",
    "btn_continue_shopping": "⬅️ Continue shopping",
    "cart_heading": "🛒 Your cart",
    "cart_merchant": "🏪 {merchant}",
    "cart_line": "• {product} — {quantity} × {price} = {subtotal}",
    "cart_subtotal": "Subtotal: {subtotal}",
    "cart_total": "Total: {total} ({orders} orders, one per shop)",
    "cart_empty": "Your cart is empty. Have a look at the Friday catalog!",
    "cart_cleared": "Your cart is now empty.",
    "cart_item": "{product}: {quantity} × {price}. Change the quantity:",
    "cart_item_gone": "That product is no longer in your cart.",
    "item_removed": "Removed from your cart.",
    "btn_edit_item": "✏️ {product}",
    "btn_checkout": "✅ Check out",
    "btn_empty_cart": "🗑️ Empty cart",
    "btn_plus_one": "➕ One more",
    "btn_minus_one": "➖ One less",
    "btn_type_quantity": "🔢 Type quantity",
    "btn_remove": "🗑️ Remove",
    # Checkout
    "ask_name": "Checkout 1/4 — Who is the order for? Type the recipient's name:",
    "ask_phone": "Checkout 2/4 — The recipient's phone/WhatsApp number? (e.g. 0812-3456-7890)",
    "ask_delivery": "Checkout 3/4 — Delivered, or picked up at the shop?",
    "ask_address": "Type the full delivery address (street, number, RT/RW, kelurahan):",
    "ask_payment": "Checkout 4/4 — How will you pay?",
    "name_invalid": "The name must be {low} to {high} characters. Please type it again:",
    "phone_invalid": (
        "That phone number is not valid. Type an Indonesian number, e.g. 0812-3456-7890 "
        "or +62 812 3456 7890:"
    ),
    "address_invalid": "The address must be {low} to {high} characters. Please type it again:",
    "btn_use": "Use: {value}",
    "btn_delivery": "🚚 Delivery",
    "btn_pickup": "🏪 Pick up myself",
    "btn_pay_cash": "💵 Cash on delivery/pickup",
    "btn_pay_transfer": "🏦 Transfer/QRIS to the seller",
    "btn_cancel_checkout": "✖️ Cancel checkout",
    "btn_confirm_order": "✅ Place order",
    "btn_edit_details": "✏️ Change details",
    "summary_heading": "Order summary — please check before ordering:",
    "summary_contact": "👤 {name}, {phone}",
    "summary_delivery": "🚚 Deliver to: {address}",
    "summary_pickup": "🏪 Pick up at the shop",
    "summary_payment_cash": "💵 Cash on delivery/pickup",
    "summary_payment_transfer": "🏦 Transfer/QRIS to the seller",
    "summary_outdated": "That summary has changed. Here is the current one:",
    "checkout_cancelled": "Checkout cancelled. Your cart is kept.",
    "orders_placed": "✅ Thank you! Your order has been placed:",
    "orders_already_placed": "This order was already placed:",
    "placed_line": "#{order} — {merchant}: {total}",
    "orders_placed_next": "The seller will confirm your order. Follow it in 📦 My orders.",
    # Orders
    "orders_heading": "📦 Your orders:",
    "orders_none": "You have no orders yet.",
    "order_line": "#{order} · {merchant} · {total} · {status}",
    "btn_order": "#{order}",
    "order_heading": "Order #{order} — {merchant}",
    "order_status": "Status: {status}",
    "order_total": "Total: {total}",
    "btn_cancel_order": "✖️ Cancel order",
    "confirm_cancel": "Cancel order #{order}? The stock goes back to the seller.",
    "btn_yes_cancel": "Yes, cancel",
    "btn_no_keep": "No",
    "order_cancelled": "Order #{order} has been cancelled.",
    "order_not_found": "That order was not found in your account.",
    "order_not_in_state": "Order #{order} can no longer be changed: it is now {status}.",
    "status_pending": "Waiting for the seller",
    "status_confirmed": "Confirmed by the seller",
    "status_ready": "Ready for pickup",
    "status_shipped": "On its way",
    "status_completed": "Completed",
    "status_rejected": "Rejected by the seller",
    "status_cancelled": "Cancelled",
    "status_expired": "Expired",
    # Messages to merchants
    "notice_order_new": "🔔 New order #{order} from {name} ({phone}):\n{items}\nTotal: {total}",
    "notice_order_cancelled": "Order #{order} was cancelled by the buyer. The stock has been returned.",
    # Telegram and other chat platforms
    "btn_share_phone": "📱 Send my number",
    "toast_added": "Added to cart",
    "group_pointer": "Hi! Jumat Beli Lokal shopping happens in a private chat with me: {link}",
    "internal_error": "Sorry, something went wrong on our side. Please try again in a moment.",
    "merchant_page": "{merchant} ({area}) — choose a product:",
    "merchant_empty": "{merchant} has no products for sale yet.",
    "merchant_gone": "That shop was not found.",
    "cmd_start": "Start and main menu",
    "cmd_catalog": "Friday catalog",
    "cmd_search": "Search products, e.g. /search coffee",
    "cmd_cart": "Shopping cart",
    "cmd_orders": "My orders",
    "cmd_language": "Change language",
    "cmd_help": "Help",
}
