"""Realistic filler text that pads a document to a target length (the context-length knob).

The pieces are original text written for evalkit: e-mail boilerplate, legal footers, quoted
earlier messages and unrelated office notes. Slots ({name}, {day}, ...) are filled from a
seeded RNG, so each item gets different filler. The filler names only first names from its
own pool and mentions no invoice, order, parcel, meeting time or signature, so it never
competes with the fields of the real document.
"""

from __future__ import annotations

import random

NAMES = ["Beatrix", "Cormac", "Dagny", "Eamon", "Fenna", "Gideon", "Halima", "Ivo", "Juno", "Kasimir",
         "Liesel", "Magnus", "Nell", "Orla", "Pim", "Quentin", "Rosalind", "Soren", "Thea", "Ulrich"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TEAMS = ["finance", "design", "customer support", "warehouse", "marketing", "IT", "facilities", "legal"]
SEASONS = ["spring", "summer", "autumn", "winter"]

SHORT = [
    "Please consider the environment before printing this e-mail.",
    "Sent from my phone - please excuse brevity and typos.",
    "This mailbox is read during office hours, Monday to Friday.",
    "If you are not the intended recipient, please delete this message and tell the sender.",
    "I am out of the office on {day}; replies may be a little slower than usual.",
    "Our offices close early on {day} for the {season} staff event.",
    "Reminder: the {team} team has moved to the {floor} floor.",
    "Please keep replies above this line so the thread stays readable.",
    "Thanks again, {name}!",
    "Adding {name} from {team} for visibility.",
    "Looping in {name2}, who covers this while I am away.",
    "No action needed on your side for now.",
]

LONG = [
    "CONFIDENTIALITY NOTICE: The content of this e-mail and any attachments is intended only for the person "
    "or organisation it is addressed to and may contain confidential or privileged information. If you have "
    "received it by mistake, please let the sender know and delete it from your system. Any review, copying "
    "or distribution by anyone else is not allowed. E-mail cannot be guaranteed to be secure or free of "
    "errors, and we accept no liability for changes made after it was sent.",
    "Disclaimer: views and opinions expressed in this message are those of the author and do not necessarily "
    "represent those of the company. Nothing in this e-mail creates a binding agreement unless it is confirmed "
    "in writing by an authorised signatory. We process personal data in line with our privacy notice, which "
    "you can request from our data protection contact at any time.",
    "Registered office: see our website for the current address. Registered in England and Wales under company "
    "number {reg}. Directors are listed at Companies House. We are committed to paying our suppliers within "
    "agreed terms and publish our payment practices twice a year.",
    "On {day}, {name} wrote:\n> Hi all, just checking whether anyone has the slides from the {season} review.\n"
    "> I looked in the shared drive but the folder seems to be empty now. If someone moved it, a link would be\n"
    "> great. No rush, I only need them to copy two charts.",
    "-----Original message-----\nFrom: {name}\nSent: {day}\n\nThanks for the quick reply. I will pass this on to "
    "the {team} team and come back to you once they have had a look. They are short-staffed this week, so it "
    "could take a couple of days.",
    "> On {day}, {name2} wrote:\n>> Does anyone know if the coffee machine on the {floor} floor has been fixed?\n"
    "> It has, the technician came yesterday afternoon. The milk frother is still temperamental though.",
    "IT maintenance: on {day} evening the VPN will be unavailable for about {n} minutes while we update the "
    "firewall. Files saved on your laptop are not affected. If you need remote access during that window, "
    "please talk to the service desk beforehand so we can arrange an alternative.",
    "Facilities update: the lifts in the east wing will be serviced over the next {small} days. Please use the "
    "stairs or the lift by reception. Bicycle parking has moved to the covered area behind the building, and "
    "the old racks will be removed at the end of the month.",
    "Newsletter: this {season}, the {team} team has been busy. They tidied up the shared templates, retired "
    "{n} old spreadsheets that nobody remembered owning, and wrote a short guide for newcomers. The guide is "
    "on the intranet under 'Getting started'. Feedback is welcome, especially from people who joined recently.",
    "A note from HR: the annual survey is open until {day} of next week. It takes about ten minutes and all "
    "answers are anonymous. Last year's results led to the new flexible hours policy, so it really does make a "
    "difference. Thank you to everyone who has already taken part.",
    "Kitchen etiquette, once more: please label food you keep in the fridge and take it home by {day}. Anything "
    "unlabelled will be cleared out at the end of the day. Mugs belong in the dishwasher, not in the sink, and "
    "whoever finishes the milk gets to buy the next carton.",
    "Welcome to {name}, who joins the {team} team this week. {name} spent the last few years working in a "
    "small agency and is a keen cyclist, so expect questions about the bike parking. Please say hello if you "
    "see a new face at the coffee corner.",
    "Security reminder: we will never ask for your password by e-mail. If a message asks you to log in through "
    "a link you did not expect, forward it to the service desk and then delete it. Last month {n} colleagues "
    "reported suspicious messages, which helped us block a phishing campaign early.",
    "Sustainability corner: the recycling bins on every floor now have separate sections for paper, plastics "
    "and food waste. Batteries and old cables can go to the box next to the post room. Since the {season} we "
    "have cut the waste sent to landfill by roughly {n} percent.",
    "Hi {name}, thanks for covering the phones yesterday. A couple of people called about the job advert; I "
    "told them the closing date is on the careers page. One caller asked about parking for interviews, so it "
    "might be worth adding a line about that to the page.",
    "> Apologies for the delay, I was travelling most of last week.\n> Happy to pick this up again once "
    "{name2} is back.\n> Enjoy the weekend, everyone.",
    "Book club: this month we are reading a novel set on a remote island, chosen by {name}. We meet in the "
    "cafe downstairs after work; newcomers are always welcome, even if you have not finished the book. "
    "Especially if you have not finished the book.",
    "Quick poll from the social committee: would you rather have the {season} outing at a climbing hall, a "
    "cooking class or a boat trip? Reply with your favourite by {day}. Last year's quiz night raised a small "
    "amount for the local food bank, and we would like to repeat that.",
    "Printing: the large printer on the {floor} floor is out of toner again. A replacement has been requested; "
    "until it arrives please use the printer near the {team} area. Remember that double-sided printing is the "
    "default and saves roughly half the paper.",
    "Hello {name2}, I had a look at the draft and left a few comments in the margin. Most are small wording "
    "changes. The second section could be shorter, and I would move the background part to the end so readers "
    "get to the point faster. Otherwise it reads well.",
    "From the service desk: laptops older than {small} years will be replaced during the {season}. You will get an "
    "e-mail with a time slot; please back up anything stored only on your desktop before the swap. The whole "
    "process takes about an hour.",
    "Reminder that the building will be closed for the public holiday. Heating runs on a reduced schedule over "
    "the long weekend, so please switch off desk fans and heaters before you leave. Plants in the atrium will be "
    "watered by the facilities team as usual.",
    "We are collecting ideas for the intranet redesign. What do you use most? What can you never find? {name} "
    "from the {team} team will go through all suggestions and share a summary at the end of the month.",
    "PS: if anyone found a blue umbrella in the lobby on {day}, it belongs to {name2}. It has sentimental value "
    "(and keeps the rain off), so please bring it to reception.",
    "Hi both, a short summary of where things stand. The draft of the handbook is with {name} for a final read. "
    "{name2} suggested we add a glossary, which I think is a good idea, but it can wait for the next edition. "
    "Once the text is frozen, the {team} team will take care of the layout.",
    "Parking: from the first of next month the visitor spaces by the main entrance are reserved for guests only. "
    "Staff can use the multi-storey car park across the road; the barrier code is on the intranet. Car sharing "
    "spaces stay where they are, and there are now {small} charging points for electric cars.",
    "> I'm not sure I follow the last point - do you mean we keep the old folder structure for now?\n"
    "Yes, exactly. Nothing moves until everyone has had a chance to look at the proposal. {name} will collect "
    "comments until {day}, and then we decide together.",
    "A reminder from the first-aid team: the defibrillator is next to the lifts on the ground floor, and the "
    "first-aid kits are in the kitchens on every floor. If you would like to join the first-aid course this "
    "{season}, there are still {small} places left. It takes one day and counts as working time.",
    "Hello {name2}, thanks for the photos from the workshop, they turned out really well. Would you mind if we "
    "used two of them on the intranet page about the {team} team? We would of course credit you. If you'd "
    "rather not, that's completely fine too.",
    "Lost and found currently holds: a grey scarf, a set of keys with a small wooden fish, two reusable water "
    "bottles and a phone charger. Items not collected by the end of the month go to the charity shop around "
    "the corner.",
    "From the editor of the staff magazine: we are looking for short pieces about hobbies, favourite walks or "
    "recipes for the {season} issue. Anything between a paragraph and a page is welcome. Photos help too. Send "
    "them to {name} before {day} of next week.",
    "Just so everyone knows, the wifi in the east wing was patchy this morning because a switch failed. It has "
    "been replaced and everything should be back to normal. If your laptop still struggles to connect, try "
    "turning wifi off and on again before calling the service desk.",
    "-----Original message-----\nFrom: {name2}\nSent: {day}\n\nSorry, I should have been clearer. The numbers "
    "in the second tab are estimates, not final figures. I will update the sheet once the {team} team has "
    "confirmed them, probably early next week.",
    "Volunteering day: this year we are helping to tidy up the riverside path and the community garden. Gloves "
    "and tools are provided, sturdy shoes are a good idea. Lunch is on us. Sign up on the list by the kitchen "
    "on the {floor} floor; {name} is coordinating.",
]
FLOORS = ["first", "second", "third", "fourth", "fifth"]


def _render(template: str, rng: random.Random) -> str:
    name, name2 = rng.sample(NAMES, 2)
    return template.format(
        name=name, name2=name2, day=rng.choice(DAYS), team=rng.choice(TEAMS), season=rng.choice(SEASONS),
        floor=rng.choice(FLOORS), n=rng.randint(3, 40), small=rng.randint(3, 6), reg=rng.randint(10_000_000, 99_999_999),
    )


def _pieces(rng: random.Random, budget: int) -> list[str]:
    """Filler pieces whose joined length (with blank-line separators) comes as close to ``budget`` as they can."""
    chosen: list[str] = []
    used, rounds = 0, 0
    while rounds < 50 and budget - used > 2 + min(len(s) for s in SHORT) // 2:
        pool = [_render(t, rng) for t in LONG + SHORT]
        rng.shuffle(pool)
        added = False
        for piece in pool:
            cost = len(piece) + 2
            if used + cost <= budget and piece not in chosen:
                chosen.append(piece)
                used += cost
                added = True
        rounds += 1
        if not added:
            break
    return chosen


def pad(document: str, target_tokens: int, rng: random.Random, chars_per_token: int = 4) -> tuple[str, dict]:
    """Surround ``document`` with filler up to about ``target_tokens`` (estimated as characters / 4).

    The document is kept intact and placed between filler pieces (blank-line separated) at a
    seeded position. Returns the text and facts for ``item.meta``.
    """
    budget = target_tokens * chars_per_token - len(document)
    pieces = _pieces(rng, budget) if budget > 0 else []
    k = rng.randint(0, len(pieces))
    text = "\n\n".join(pieces[:k] + [document] + pieces[k:])
    offset = sum(len(p) + 2 for p in pieces[:k])
    info = {
        "context_tokens_target": target_tokens,
        "context_tokens_est": round(len(text) / chars_per_token),
        "context_chars": len(text),
        "document_chars": len(document),
        "document_offset": offset,
        "document_position": round(offset / max(1, len(text) - len(document)), 3),
        "filler_pieces": len(pieces),
    }
    return text, info
