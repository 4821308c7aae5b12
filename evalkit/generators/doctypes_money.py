"""Document types about money: invoices, purchase orders and till receipts.

Each builder takes a seeded :class:`Values` and returns a :class:`Doc` in one of three
layouts (formal form, e-mail prose, compact lines). Every gold string is printed verbatim;
amounts are printed as ``1,234.50`` and gold holds them as numbers (1234.5).
"""

from __future__ import annotations

from evalkit.generators.docvalues import CO_HEAD, CURRENCIES, Doc, Values, money, rate_text, table, tax_cents

CATALOGUE = [
    "Annual software licence", "Consulting hours", "Printer toner cartridges", "Ergonomic office chairs",
    "Cloud storage, 1 TB monthly", "On-site installation", "Website maintenance", "Training workshop",
    "Replacement keyboards", "Coffee beans, 1 kg bags", "Shipping pallets", "Safety gloves, box of 100",
    "LED panel lights", "Translation services", "Catering for team event", "Standing desks",
    "Network switches", "Recycled copy paper, 5 reams", "Label printer", "Window cleaning",
]

INVOICE_FIELDS = [
    ("invoice_number", "string", "the number of this invoice, not an earlier invoice or an order reference"),
    ("issue_date", "string", "the date this invoice was issued, as written; not the due date"),
    ("vendor", "string", "the company that issued the invoice and is owed the money"),
    ("customer", "string", "the company the invoice is addressed to"),
    ("total_amount", "number", "the final amount due including tax, as a plain number"),
    ("currency", "string", "the three-letter currency code of the amounts, e.g. USD"),
]
PO_FIELDS = [
    ("po_number", "string", "the number of this purchase order, not a quote number"),
    ("order_date", "string", "the date the order was placed, as written"),
    ("buyer", "string", "the company placing the order"),
    ("supplier", "string", "the company the goods are ordered from"),
    ("total_amount", "number", "the order total including shipping and tax, as a plain number"),
    ("delivery_date", "string", "the requested delivery date, as written"),
]
RECEIPT_FIELDS = [
    ("store", "string", "the name of the shop that issued the receipt"),
    ("purchase_date", "string", "the date of the purchase, as written; not a return deadline"),
    ("total_paid", "number", "the total paid including tax, as a plain number"),
    ("payment_method", "string", "how the customer paid, as written, e.g. Visa or Cash"),
    ("transaction_id", "string", "the transaction number of this purchase"),
]


def _totals(v: Values, k: int) -> tuple[list, int, int, int, int]:
    lines = v.line_items(CATALOGUE, k)
    sub = sum(q * u for _, q, u in lines)
    rate = v.rng.choice([500, 700, 850, 1000, 1900, 2000, 2100])
    tax = tax_cents(sub, rate)
    return lines, sub, rate, tax, sub + tax


def invoice(v: Values) -> Doc:
    vendor, customer = v.companies(2)
    inv, prev = v.codes(v.rng.choice(["INV-####", "INV-0#####", "A-#####", "@@-######", "####/##"]), 2)
    ref = v.code("PO-#####")
    issued = v.day()
    issue, due = v.fmt_date(issued), v.fmt_date(v.shift(issued, 14, 45))
    lines, sub, rate, tax, total = _totals(v, v.rng.randint(1, 4))
    code = v.rng.choice(list(CURRENCIES))
    sym, clerk = CURRENCIES[code], v.person()
    (street, city), (cstreet, ccity) = v.address(), v.address()
    layout = v.rng.choice(["form", "email", "compact"])
    if layout == "form":
        text = (
            f"{vendor}\n{street}, {city}\n\nINVOICE\n\nInvoice no.: {inv}\nDate of issue: {issue}\n"
            f"Payment due: {due}\nYour order ref.: {ref}\n\nBill to:\n{customer}\n{cstreet}\n{ccity}\n\n"
            f"{table(lines)}\n\nSubtotal: {sym}{money(sub)}\nTax ({rate_text(rate)}%): {sym}{money(tax)}\n"
            f"Total due ({code}): {sym}{money(total)}\n\nThis invoice replaces invoice {prev}, which showed "
            f"an old billing address. Please do not pay {prev}.\n"
        )
    elif layout == "email":
        text = (
            f"Subject: Invoice {inv} from {vendor}\n\nDear colleagues at {customer},\n\n"
            f"please find our invoice {inv}, dated {issue}, for your order {ref}. The net amount is "
            f"{code} {money(sub)}; with {rate_text(rate)}% tax ({code} {money(tax)}) the total payable is "
            f"{code} {money(total)}. We would be grateful for payment by {due}.\n\nThank you for settling "
            f"invoice {prev} so quickly last month.\n\nKind regards,\n{clerk}\nAccounts team, {vendor}\n"
        )
    else:
        items = "; ".join(f"{q} x {d} @ {money(u)}" for d, q, u in lines)
        text = (
            f"{vendor} | Invoice {inv} | Issued {issue} | Customer: {customer} | Ref. {ref}\n"
            f"Items: {items}\nNet {money(sub)} + tax {money(tax)} = {money(total)} {code}. Due {due}.\n"
            f"Previous invoice: {prev} (paid).\n"
        )
    gold = {"invoice_number": inv, "issue_date": issue, "vendor": vendor, "customer": customer,
            "total_amount": total / 100, "currency": code}
    distractors = {"previous_invoice_number": prev, "due_date": due, "order_reference": ref,
                   "subtotal": money(sub), "tax": money(tax)}
    return Doc(text, gold, distractors, layout)


def purchase_order(v: Values) -> Doc:
    buyer, supplier = v.companies(2)
    po, quote = v.code(v.rng.choice(["PO-######", "PO/####/@", "P######"])), v.code("Q-####-@@")
    ordered = v.day()
    order, quoted, deliver = v.fmt_date(ordered), v.fmt_date(v.shift(ordered, -30, -3)), v.fmt_date(v.shift(ordered, 7, 40))
    lines, sub, rate, tax, _ = _totals(v, v.rng.randint(1, 4))
    shipping = v.rng.randint(15, 240) * 100
    total = sub + shipping + tax
    code, buyer_person = v.rng.choice(["USD", "EUR", "GBP"]), v.person()
    street, city = v.address()
    layout = v.rng.choice(["form", "email", "compact"])
    if layout == "form":
        text = (
            f"PURCHASE ORDER {po}\n\nBuyer: {buyer}\nSupplier: {supplier}\nOrder date: {order}\n"
            f"Based on your quote {quote} of {quoted}\nDeliver to: {street}, {city}\n"
            f"Requested delivery: {deliver}\n\n{table(lines)}\n\nSubtotal {money(sub)}\n"
            f"Shipping {money(shipping)}\nTax {money(tax)}\nOrder total ({code}) {money(total)}\n\n"
            f"Authorised by {buyer_person}, {buyer}\n"
        )
    elif layout == "email":
        text = (
            f"Subject: Order {po}\n\nHello {supplier} sales team,\n\nthank you for quote {quote} "
            f"({quoted}). {buyer} would like to go ahead: please treat this e-mail, sent on {order}, as "
            f"purchase order {po}. We need the goods at our site ({street}, {city}) by {deliver}.\n\n"
            f"{table(lines)}\n\nThe goods come to {code} {money(sub)}; with shipping of {money(shipping)} "
            f"and tax of {money(tax)} the order total is {code} {money(total)}.\n\nBest wishes,\n{buyer_person}\n"
            f"Purchasing, {buyer}\n"
        )
    else:
        items = ", ".join(f"{q} {d}" for d, q, _ in lines)
        text = (
            f"PO {po} / {order} / from {buyer} to {supplier} / quote {quote} ({quoted})\n"
            f"Goods: {items} - {money(sub)}; freight {money(shipping)}; tax {money(tax)}; "
            f"TOTAL {money(total)} {code}\nDeliver by {deliver} to {city}.\n"
        )
    gold = {"po_number": po, "order_date": order, "buyer": buyer, "supplier": supplier,
            "total_amount": total / 100, "delivery_date": deliver}
    distractors = {"quote_number": quote, "quote_date": quoted, "subtotal": money(sub), "shipping": money(shipping)}
    return Doc(text, gold, distractors, layout)


SHOP_KIND = ["Market", "Hardware", "Books", "Pharmacy", "Electronics", "Deli", "Home & Garden", "Outdoor", "Stationery"]
SHOP_GOODS = [
    "Batteries AA 8pk", "Notebook A5", "Oat milk 1L", "Screwdriver set", "Phone charger", "Paperback novel",
    "Bird seed 2kg", "Sunscreen SPF50", "Wool socks", "Extension cable", "Sourdough loaf", "Desk lamp",
    "Plant pot 20cm", "Pack of pens", "Olive oil 500ml", "Rain poncho",
]


def receipt(v: Values) -> Doc:
    store = f"{v.rng.choice(CO_HEAD)} {v.rng.choice(SHOP_KIND)}"
    lines = [(g, v.rng.randint(1, 3), v.rng.randint(99, 4999)) for g in v.rng.sample(SHOP_GOODS, v.rng.randint(2, 5))]
    sub = sum(q * u for _, q, u in lines)
    rate = v.rng.choice([500, 700, 800, 1900, 2000])
    tax = tax_cents(sub, rate)
    total = sub + tax
    bought = v.day()
    date, return_by = v.fmt_date(bought), v.fmt_date(v.shift(bought, 14, 30))
    method = v.rng.choice(["Visa", "Mastercard", "Cash", "Debit card", "Gift card"])
    txn, store_no = v.code(v.rng.choice(["T#########", "#####-####", "TRX-@#####"])), v.code("Store ####")
    time = v.fmt_time(v.rng.randint(8, 20), v.rng.randint(0, 59), v.rng.random() < 0.5)
    paid = f"{method} {money(total)}"
    if method == "Cash":
        tendered = (total // 1000 + 1) * 1000
        paid = f"Cash {money(tendered)}\nChange {money(tendered - total)}"
    items = "\n".join(f"{q} x {g:<20}{money(q * u):>11}" for g, q, u in lines)
    layout = v.rng.choice(["till", "email", "compact"])
    if layout == "till":
        text = (
            f"*** {store} ***\n{store_no}\n{date}  {time}\n\n{items}\n\n{'SUBTOTAL':<16}{money(sub):>19}\n"
            f"{'TAX ' + rate_text(rate) + '%':<16}{money(tax):>19}\n{'TOTAL':<16}{money(total):>19}\n{paid}\n\n"
            f"Transaction {txn}\nReturns accepted until {return_by} with this receipt.\n"
        )
    elif layout == "email":
        text = (
            f"Subject: Your receipt from {store}\n\nThanks for shopping with us on {date} at {time}!\n\n"
            f"{items}\n\nSubtotal: {money(sub)}\nTax: {money(tax)}\nTotal paid: {money(total)}\n"
            f"Payment: {method}\nTransaction ID: {txn} ({store_no})\n\nChanged your mind? Bring your purchase "
            f"back by {return_by}.\n"
        )
    else:
        text = (
            f"{store} - {store_no} - {date} {time} - txn {txn}\n"
            + ", ".join(f"{q}x {g}" for g, q, _ in lines)
            + f"\nsubtotal {money(sub)}, tax {money(tax)}, total {money(total)}, paid by {method}. "
            f"Return by {return_by}.\n"
        )
    gold = {"store": store, "purchase_date": date, "total_paid": total / 100, "payment_method": method, "transaction_id": txn}
    distractors = {"subtotal": money(sub), "tax": money(tax), "return_by": return_by, "store_number": store_no}
    if method == "Cash" and layout == "till":
        distractors["cash_tendered"] = money(tendered)
    return Doc(text, gold, distractors, layout)


TYPES = {
    "invoice": (INVOICE_FIELDS, invoice),
    "purchase_order": (PO_FIELDS, purchase_order),
    "receipt": (RECEIPT_FIELDS, receipt),
}
