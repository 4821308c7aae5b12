"""Document types sent as messages: shipping notices, meeting invitations and e-mail signatures.

Same contract as :mod:`doctypes_money`: each builder returns a :class:`Doc` whose gold strings
are printed verbatim and whose distractors (a second date, a CC'd person, a switchboard
number, a return label ...) sit beside them.
"""

from __future__ import annotations

from evalkit.generators.docvalues import CITIES, TITLES, Doc, Values

SHIP_FIELDS = [
    ("tracking_number", "string", "the tracking number of the outgoing shipment, not a return label"),
    ("carrier", "string", "the delivery company carrying the parcels"),
    ("ship_date", "string", "the date the shipment left, as written; not the expected delivery date"),
    ("recipient", "string", "the full name of the person the parcels are addressed to"),
    ("destination_city", "string", "the city the parcels are going to"),
    ("package_count", "number", "how many parcels the shipment has (not how many items were ordered)"),
]
MEETING_FIELDS = [
    ("title", "string", "the title of the meeting"),
    ("date", "string", "the date the meeting takes place, as written; not an earlier planned date"),
    ("start_time", "string", "the time the meeting starts, as written"),
    ("location", "string", "where the meeting takes place now"),
    ("organizer", "string", "the full name of the person who organises the meeting"),
]
SIGNATURE_FIELDS = [
    ("name", "string", "the full name of the sender whose signature closes the e-mail"),
    ("job_title", "string", "the sender's job title"),
    ("company", "string", "the sender's company"),
    ("email", "string", "the sender's own e-mail address, not a shared or CC'd one"),
    ("phone", "string", "the sender's own direct or mobile number, not the switchboard"),
]
CARRIERS = {
    "Bluebird Parcel": "BP#########GB", "Northwind Freight": "NW-####-####-####", "SwiftLine Express": "1S##########",
    "Harbor Post": "HP@@########", "Polar Courier": "PC#### #### ####", "Ridgeway Logistics": "RL-@#######",
}
MEETINGS = [
    "Quarterly budget review", "Website relaunch kickoff", "Supplier contract negotiation", "Onboarding plan for new hires",
    "Warehouse safety audit", "Product roadmap workshop", "Customer feedback retro", "Annual planning day",
    "Office move coordination", "Data migration check-in", "Pricing committee", "Trade fair preparation",
]
ROOMS = [
    "Room 4.12", "Conference Room Aurora", "Meeting room Fjell, 2nd floor", "Boardroom, Building B", "the Lighthouse room",
    "Training room 1", "Room G.03", "the Atrium meeting pod", "Studio 7", "Library room, 3rd floor",
]
BODIES = [
    "Thanks for sending the revised drawings. I have shared them with our engineers and we will come back to you "
    "with comments by the end of the week.",
    "Following our call, I am attaching the signed copy of the service agreement. Let me know if your legal team "
    "needs anything else from us.",
    "Just a quick note to confirm that the samples arrived in good condition. We would like to order a larger batch next month.",
    "Could you please check whether the delivery slot on Thursday still works for you? Our loading bay is closed in the afternoon.",
    "I am afraid we need a few more days to finish the report. The figures from the northern region came in later than expected.",
    "Many thanks for a productive workshop yesterday. I have summarised the action points below so that nothing gets lost.",
    "We have updated our bank details for future payments. Please use the new account for all invoices from next month on.",
]


CLOSINGS = ["Best regards", "Kind regards", "Cheers", "With thanks"]


def _parcels(n: int) -> str:
    return f"{n} parcel" + ("s" if n != 1 else "")


def shipping_notice(v: Values) -> Doc:
    carrier = v.rng.choice(list(CARRIERS))
    trk, ret = v.codes(CARRIERS[carrier], 2)
    order, shop = v.code(v.rng.choice(["#######", "ORD-######", "@@-#####"])), v.companies(1)[0]
    recipient = v.person()
    origin, dest = v.rng.sample(CITIES, 2)
    street = v.address()[0]
    shipped = v.day()
    ship, eta = v.fmt_date(shipped), v.fmt_date(v.shift(shipped, 1, 6))
    pk = v.rng.randint(1, 4)
    items = pk + v.rng.randint(1, 6)
    layout = v.rng.choice(["email", "carrier", "compact"])
    if layout == "email":
        text = (
            f"Subject: Your order {order} is on its way\n\nHi {recipient.split()[0]},\n\ngood news: your order {order} "
            f"({items} items) left our warehouse in {origin} on {ship}. It travels in {_parcels(pk)} with {carrier}, "
            f"tracking number {trk}. Expected delivery: {eta}.\n\nDelivery address:\n{recipient}\n{street}\n{dest}\n\n"
            f"Need to send something back? The box contains a prepaid return label, tracking number {ret}.\n\n{shop}\n"
        )
    elif layout == "carrier":
        text = (
            f"{carrier.upper()} - SHIPMENT NOTIFICATION\n\nCarrier: {carrier}\nTracking number: {trk}\n"
            f"Shipped on: {ship}\nSender: {shop}, {origin}\nRecipient: {recipient}, {street}, {dest}\n"
            f"Number of packages: {pk}\nWeight: {v.rng.randint(1, 40)}.{v.rng.randint(0, 9)} kg\n"
            f"Estimated delivery: {eta}\nSender reference: order {order}, {items} items\n"
            f"Pre-registered return shipment: {ret}\n"
        )
    else:
        text = (
            f"{carrier} | {trk} | shipped {ship} | {_parcels(pk)} | to {recipient}, {dest} | from {origin} | "
            f"order {order} ({items} items) | ETA {eta} | return label {ret}\n"
        )
    gold = {"tracking_number": trk, "carrier": carrier, "ship_date": ship, "recipient": recipient,
            "destination_city": dest, "package_count": pk}
    distractors = {"return_tracking_number": ret, "order_number": order, "estimated_delivery": eta,
                   "origin_city": origin, "item_count": str(items)}
    return Doc(text, gold, distractors, layout)


def meeting_invite(v: Values) -> Doc:
    title = v.rng.choice(MEETINGS)
    organizer, guest, other = v.people(3)
    room, old_room = v.rng.sample(ROOMS, 2)
    day = v.day()
    date, orig = v.fmt_date(day), v.fmt_date(v.shift(day, -9, 9))
    twelve = v.rng.random() < 0.5
    h, m = v.rng.randint(8, 16), v.rng.choice([0, 15, 30, 45])
    end_min = h * 60 + m + v.rng.choice([30, 45, 60, 90, 120])
    start, end = v.fmt_time(h, m, twelve), v.fmt_time(end_min // 60, end_min % 60, twelve)
    email = v.email(organizer, v.domain(v.companies(1)[0]))
    layout = v.rng.choice(["calendar", "email", "notice"])
    if layout == "calendar":
        text = (
            f"Invitation: {title}\nWhen: {date}, {start} - {end}\nWhere: {room}\n"
            f"Organizer: {organizer} <{email}>\nGuests: {guest}, {other}\n\nThis replaces the earlier invitation for "
            f"{orig}. Please note we are no longer meeting in {old_room}.\n"
        )
    elif layout == "email":
        text = (
            f"From: {organizer} <{email}>\nTo: project team\nCc: {guest}\nSubject: {title}\n\nHi everyone,\n\n"
            f"a quick update: the meeting \"{title}\" moves from {orig} to {date}. We start at {start} and should be "
            f"done by {end}. Please come to {room}, not {old_room} (it is booked that day). {other} will take notes.\n\n"
            f"Thanks,\n{organizer}\n"
        )
    else:
        text = (
            f"NOTICE OF MEETING\n\n{title}\n\nDate: {date} (rescheduled from {orig})\nTime: {start} to {end}\n"
            f"Venue: {room} (changed from {old_room})\nConvened by: {organizer}\nCopy to: {guest}; {other}\n"
        )
    gold = {"title": title, "date": date, "start_time": start, "location": room, "organizer": organizer}
    distractors = {"original_date": orig, "end_time": end, "previous_location": old_room, "guest": guest}
    return Doc(text, gold, distractors, layout)


def email_signature(v: Values) -> Doc:
    name, cc, to = v.people(3)
    company, other_co = v.companies(2)
    domain, other_domain = v.domain(company), v.domain(other_co)
    email, cc_email, to_email = v.email(name, domain), v.email(cc, domain), v.email(to, other_domain)
    generic = v.rng.choice(["info", "sales", "office", "hello"]) + "@" + domain
    us = v.rng.random() < 0.5
    title, phone = v.rng.choice(TITLES), v.phone(us)
    main = v.phone(us)
    while main == phone:
        main = v.phone(us)
    street, city = v.address()
    head = (f"From: {name} <{email}>\nTo: {to} <{to_email}>\nCc: {cc} <{cc_email}>\n"
            f"Subject: {v.rng.choice(['Follow-up', 'Next steps', 'Quick question', 'Re: our call'])}\n\n"
            f"Dear {to.split()[0]},\n\n{v.rng.choice(BODIES)}\n\n{v.rng.choice(CLOSINGS)},\n\n")
    layout = v.rng.choice(["classic", "oneline", "dashed"])
    if layout == "classic":
        sig = f"{name}\n{title}\n{company}\nDirect: {phone}\nMain office: {main}\n{email}\n"
    elif layout == "oneline":
        sig = f"{name} | {title} | {company}\nM {phone} | T {main} (switchboard) | {generic}\n"
    else:
        sig = f"-- \n{name}, {title}\n{company}, {street}, {city}\nMobile {phone} / Reception {main}\nGeneral enquiries: {generic}\n"
    gold = {"name": name, "job_title": title, "company": company, "email": email, "phone": phone}
    distractors = {"cc_name": cc, "cc_email": cc_email, "switchboard": main, "recipient": to}
    if layout != "classic":
        distractors["shared_email"] = generic
    return Doc(head + sig, gold, distractors, layout)


TYPES = {
    "shipping_notice": (SHIP_FIELDS, shipping_notice),
    "meeting_invite": (MEETING_FIELDS, meeting_invite),
    "email_signature": (SIGNATURE_FIELDS, email_signature),
}
