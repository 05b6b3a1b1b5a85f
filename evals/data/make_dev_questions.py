"""Write the labeled dev question set for retrieval and answer evals.

    python -m evals.data.make_dev_questions      # writes evals/data/dev_questions.jsonl
    python evals/data/check_dev_questions.py     # then verify it

The questions are written by hand below. Numbers come from the shop's parameters and
SKUs, order numbers and facts are looked up in knowledge/demo/store/*.json, so the set
stays correct when `python -m knowledge.demo_shop` regenerates the demo shop.
Each row: id, question, kind, style, doc_ids (acceptable evidence, policy before FAQ),
key_fact (a substring a correct answer must contain), customer_id (order questions only).
"""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.demo_shop.shop import SHOP
from knowledge.demo_shop.text import money

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "knowledge" / "demo" / "store"
OUT = Path(__file__).with_name("dev_questions.jsonl")

S = SHOP
RET, REF, EXC, SHP, INT = "returns", "refunds", "exchanges", "shipping", "international-shipping"
CHG, DMG, WAR, PRC = "order-changes-and-cancellation", "damaged-or-lost-parcels", "warranty", "price-adjustment"
LOY, PAY, PRV, GFT = "loyalty-programme", "payment-methods", "privacy", "gift-cards"
REP, STU, CARE = "repairs", "student-and-military-discount", "product-care"
FAQ = "faq"  # in a doc list below: the FAQ states the fact too

# (style, question, [policy slugs, then FAQ if it repeats the fact], key fact)
POLICY = [
    ("plain", "How long do I have to return an item?", [RET, FAQ], f"{S.return_days} days"),
    ("paraphrase", "Is there a later deadline for sending back gifts I got over the holidays?", [RET], "January 31"),
    ("plain", "Can I return worn boots?", [RET, FAQ], "indoors"),
    ("plain", "Which items are final sale and can't be returned?", [RET], "gift cards"),
    ("casual", "how much does it cost to send stuff back?", [RET, FAQ], money(S.return_label_fee)),
    ("paraphrase", "Where do I go online to kick off a return?", [RET, FAQ], "/returns"),
    ("plain", "How long is the prepaid return label valid?", [RET], f"{S.label_valid_days} days"),
    ("typo", "do summit memebers have to pay for retrun shipping?", [RET, LOY, FAQ], "free"),
    ("plain", "Can I return merino boxer briefs if I've opened the packaging?", [RET], "hygiene"),
    ("paraphrase", "Once my parcel reaches your returns center, how soon do you process the refund?", [RET, REF, FAQ], f"{S.inspection_days} business days"),
    ("typo", "whats the adress for sending returns with my own carrier", [RET], "Table Mountain Parkway"),
    ("plain", "How long does a refund to PayPal take?", [REF, FAQ], "5 business days"),
    ("paraphrase", "If I send something back, do you also give me back what I paid for delivery?", [REF], "not refundable"),
    ("plain", "What happens if I return boots without the shoe box?", [REF], "$10"),
    ("typo", "my refund hasnt shown up after two weeks what do i do", [REF], "ARN"),
    ("plain", "How are refunds handled for orders paid with Klarna?", [REF], "payment plan"),
    ("casual", "if i paid with a gift card where does my refund go", [REF, GFT], "e-gift card"),
    ("paraphrase", "Will I get the full price back if the jacket I'm returning has been through the wash?", [REF], "50%"),
    ("plain", "Are exchanges free?", [EXC, FAQ], "free both ways"),
    ("paraphrase", "Can I swap my jacket for a completely different model?", [EXC], "new order"),
    ("plain", "Who can use instant exchanges?", [EXC], S.tiers[1].name),
    ("typo", "can i exchnage an item from an internatonal order?", [EXC, INT], "new order"),
    ("casual", "what happens if the size i want is sold out when i do an exchange", [EXC], "different color"),
    ("plain", "How many free exchanges do I get per item?", [EXC], "one exchange per item"),
    ("plain", "How much is standard shipping?", [SHP, FAQ], money(S.us_rates[0].lower48)),
    ("plain", "How much do I need to spend to get free shipping?", [SHP, FAQ], money(S.free_shipping_threshold)),
    ("typo", "how much is overnigt shiping to alaska", [SHP], money(S.us_rates[2].ak_hi)),
    ("paraphrase", "If I order before lunch, can my overnight parcel leave the same day?", [SHP], "12 pm"),
    ("plain", "Do you ship to Puerto Rico, and what does it cost?", [SHP], money(S.territory_rate)),
    ("casual", "do i have to sign for my package when it comes", [SHP], money(S.signature_threshold)),
    ("paraphrase", "Can stove fuel be sent with express delivery?", [SHP], "ground"),
    ("plain", "Which days of the week do you ship orders?", [SHP, FAQ], "Monday to Friday"),
    ("typo", "how long does expedted shipping take", [SHP], "2 business days"),
    ("plain", "How much is shipping to Canada?", [INT], money(S.intl_zones[0].standard)),
    ("paraphrase", "Will I have to pay import taxes when my order arrives in Germany?", [INT, FAQ], "DHL"),
    ("typo", "whats the free shiping threshold for internationl orders", [INT, FAQ], money(S.intl_free_threshold)),
    ("plain", "Can you ship a rechargeable headlamp to Japan?", [INT], "lithium-ion"),
    ("casual", "how much is express shipping to australia", [INT], money(S.intl_zones[2].express)),
    ("paraphrase", "What happens if I refuse to pay the customs charges on my parcel?", [INT], "return freight"),
    ("plain", "What currency will I be charged in if I order from the UK?", [INT, PAY], "US dollars"),
    ("plain", "How long do I have to cancel my order?", [CHG, FAQ], f"{S.change_window_minutes} minutes"),
    ("paraphrase", "I forgot something: can I add another item to the order I just placed?", [CHG], "second order"),
    ("typo", "can i chnage the shipping adress after my order has shipped", [CHG], "UPS My Choice"),
    ("casual", "will i get charged if my order gets cancelled?", [CHG], "never charged"),
    ("plain", "Can I change the payment method on an order I've placed?", [CHG], "cancel the order"),
    ("paraphrase", "Why would you cancel my order on your side?", [CHG], "fraudulent"),
    ("plain", "My order arrived damaged. How long do I have to report it?", [DMG], f"{S.damage_report_days} days"),
    ("paraphrase", "Tracking says delivered but there's nothing on my porch. What should I do?", [DMG], f"{S.not_received_report_days} days"),
    ("plain", "When is a parcel inside the US considered lost?", [DMG], f"{S.lost_domestic_days} business days"),
    ("typo", "whats the diffrence between a delayed parcel and a lost one", [DMG], "still moving"),
    ("casual", "box got crushed in the mail, do u need pics?", [DMG], "shipping label"),
    ("paraphrase", "If you replace a lost package, how will the replacement be sent?", [DMG], "Expedited"),
    ("plain", "Do I need to file a claim with the carrier myself?", [DMG], "ourselves"),
    ("plain", "How long is the warranty on backpacks?", [WAR, FAQ], "lifetime"),
    ("plain", "What's the warranty on footwear?", [WAR, FAQ], "1 year"),
    ("plain", "How long is the warranty on jackets?", [WAR, FAQ], "2 years"),
    ("paraphrase", "The waterproof layer inside my rain shell is peeling away after a year. Is that covered?", [WAR], "delamination"),
    ("typo", "is my jakcet covered by warranty if i burned it on a campfire", [WAR], "campfire"),
    ("plain", "How long does a warranty assessment take?", [WAR], "10 business days"),
    ("paraphrase", "What do I get if my faulty item can't be repaired and you no longer make it?", [WAR], "e-gift card"),
    ("plain", "If the price drops after I buy, do I get the difference back?", [PRC, FAQ], f"{S.price_adjustment_days} days"),
    ("plain", "Do you price match Amazon?", [PRC, FAQ], "don't match"),
    ("typo", "i forgot to use my promo cod, can you still apply it", [PRC], "7 days"),
    ("paraphrase", "Is there a limit to how many times you'll adjust the price on one item?", [PRC], "once per item"),
    ("casual", "a sale started 3 days after i ordered, can i get money back?", [PRC, FAQ], f"{S.price_adjustment_days} days"),
    ("plain", f"How many points do I need for a {money(S.reward_value)} reward?", [LOY, FAQ], f"{S.points_per_reward} points"),
    ("plain", "When do Ridgeline Rewards points expire?", [LOY, FAQ], f"{S.points_expiry_months} months"),
    ("paraphrase", "How much do I have to spend to reach the top membership level?", [LOY], money(S.tiers[2].min_spend)),
    ("typo", "how many bonus points do i get on my birthday", [LOY], str(S.birthday_points)),
    ("casual", "whats the most reward money i can use on one order", [LOY], money(S.max_reward_per_order)),
    ("plain", "How many points per dollar do Summit members earn?", [LOY], f"{S.tiers[1].points_per_dollar:g}"),
    ("paraphrase", "Do I get anything for writing product reviews?", [LOY], f"{S.review_points} points"),
    ("plain", "Can I pay with Bitcoin?", [PAY], "cryptocurrency"),
    ("plain", "Do you accept American Express?", [PAY, FAQ], "American Express"),
    ("paraphrase", "At what point does the money actually leave my account?", [PAY, FAQ], "ships"),
    ("typo", "whats the minimum order for klarna", [PAY, FAQ], money(S.klarna_min)),
    ("casual", "can i split my order between two credit cards", [PAY], "gift card"),
    ("plain", "Do you store my credit card number?", [PAY, PRV], "last four digits"),
    ("paraphrase", "If my card is declined, how long will you hold on to my order?", [PAY], "3 days"),
    ("plain", "How long do you keep chat transcripts?", [PRV], "24 months"),
    ("paraphrase", "Do you sell my personal data to advertisers?", [PRV], "don't sell"),
    ("plain", "How do I delete my account?", [PRV, FAQ], "Delete my account"),
    ("typo", "how long do you keep my order histroy", [PRV, FAQ], "7 years"),
    ("casual", "who do i email about privacy stuff", [PRV, FAQ], S.privacy_email),
    ("plain", "How quickly do you answer a request for a copy of my data?", [PRV], "30 days"),
    ("plain", "Do gift cards expire?", [GFT, FAQ], "never expire"),
    ("plain", "What's the largest amount I can put on an e-gift card?", [GFT], "$500"),
    ("typo", "how do i chek my gift card balance", [GFT], "/gift-card-balance"),
    ("paraphrase", "I lost the gift card my aunt gave me. Can you replace it?", [GFT], "order number"),
    ("casual", "how many gift cards can i use at once", [GFT], "5 gift cards"),
    ("plain", "How much does it cost to replace a zipper slider?", [REP, FAQ], "$15"),
    ("plain", "How long do repairs take?", [REP, FAQ], "4 weeks"),
    ("paraphrase", "Can you put new soles on my old hiking boots?", [REP], "resole"),
    ("typo", "do i have to clean my tent befor sending it for repair", [REP], "clean and dry"),
    ("casual", "how much to retape a seam on my rain jacket", [REP], "$35"),
    ("plain", "Do you have a student discount?", [STU, FAQ], f"{S.student_discount_pct}%"),
    ("paraphrase", "I'm a firefighter. Do I qualify for any discount?", [STU, FAQ], "first responder"),
    ("typo", "does the militray discount work on sale items", [STU, FAQ], "full-price"),
    ("casual", "how long does my student verification last", [STU], "12 months"),
    ("plain", "How should I wash my down jacket?", [CARE], "down-specific wash"),
    ("paraphrase", "Water doesn't bead on my rain jacket anymore. How do I fix that?", [CARE], "reproofer"),
    ("typo", "how should i store my slepping bag", [CARE], "storage sack"),
    ("casual", "my water filter froze overnight, is it still ok?", [CARE], "replaced"),
]

# Facts only the FAQ states. (style, question, key fact, extra doc ids that state it too)
FAQ_ONLY = [
    ("plain", "What are your customer support hours?", "7 am", []),
    ("paraphrase", "When can I reach a human on the support team at weekends?", "9 am", []),
    ("plain", "Do you have a physical store?", "online-only", []),
    ("paraphrase", "Can I come and pick up my order at your warehouse?", "showroom", []),
    ("casual", "how long have you guys been around?", str(S.founded_year), []),
    ("plain", "How do I reset my password?", "Forgot password", []),
    ("typo", "how do i chnage the email adress on my acount", "Profile > Email", []),
    ("paraphrase", "If I switch to a new email address, do I lose my order history and points?", "move with you", []),
    ("plain", "How do I find my size?", "size chart", []),
    ("casual", "im between sizes for a rain shell, which one should i get", "size up", []),
    ("plain", "How do I choose a sleeping bag temperature rating?", "10°F below", []),
    ("paraphrase", "Is the down in your jackets ethically sourced?", "Responsible Down Standard", []),
    ("typo", "will the sold out sizes come bak in stock?", "Notify me", []),
    ("plain", "Do you offer gift wrapping?", f"{money(S.gift_wrap_fee)} per order", []),
    ("paraphrase", "Can I send a present without the price showing on the packing slip?", "won't show prices", []),
    ("typo", "where do i type in a promo cde", "in your cart", []),
    ("plain", "Can I place an order over the phone?", "place an order for you", []),
    ("paraphrase", "I need a receipt for my expense report. Where can I get one?", "PDF invoice", []),
    ("casual", "how do i stop getting your marketing emails", "Account > Preferences", []),
    ("plain", "Do I need an account to place an order?", "check out as a guest", []),
    ("paraphrase", "If I email you, how long until I get an answer?", "within 1 business day", []),
    ("typo", "can i get gift wraping on an order to canada?", "isn't available on international", []),
    ("plain", "Am I chatting with a real person?", "Ask for a person", []),
    ("paraphrase", "How many miles does it take to break in leather hiking boots?", "30 miles", ["Granite Peak Hiking Boots"]),
]

UNANSWERABLE = [
    ("plain", "Do you sell kayaks or paddleboards?"),
    ("plain", "Are you hiring at your warehouse?"),
    ("plain", "Do you have an affiliate or influencer program?"),
    ("casual", "who's the ceo of ridgeline?"),
    ("plain", "Do you have a mobile app for iPhone?"),
    ("paraphrase", "Could I borrow a tent from you for a weekend instead of buying one?"),
    ("plain", "Do you buy back used gear or offer trade-in credit?"),
    ("plain", "When does your Black Friday sale start this year?"),
    ("plain", "Are your jackets made in the USA?"),
    ("plain", "Can you embroider our hiking club's logo on fleece jackets?"),
    ("paraphrase", "I run an outdoor shop. Can I buy your gear at wholesale prices?"),
    ("casual", "what's a good day hike near boulder?"),
    ("plain", "What's the weather forecast for Rocky Mountain National Park this weekend?"),
    ("plain", "Do you sell fishing rods?"),
    ("typo", "do you sell bike helmts?"),
    ("plain", "Will the Summit Down Parka come in orange next season?"),
    ("plain", "Do you sponsor athletes or expeditions?"),
    ("plain", "Can I book a guided hiking trip through you?"),
    ("plain", "Do you run avalanche safety courses?"),
    ("plain", "Is there a carbon offset option at checkout?"),
    ("casual", "do you guys do group hikes or meetups?"),
    ("plain", "How many people work at Ridgeline Outfitters?"),
    ("plain", "Can I get a printed catalog mailed to me?"),
    ("plain", "Do you have a gift registry for weddings?"),
    ("plain", "What was your company's revenue last year?"),
    ("plain", "Do you sell electric bikes?"),
    ("typo", "do you sell dog jackets or packs for dogs"),
    ("plain", "Do you have a podcast or a YouTube channel?"),
    ("plain", "Do you offer ski tuning or snowboard waxing?"),
    ("plain", "Do you sell climbing ropes?"),
    ("plain", "Do you sell snowshoes?"),
    ("paraphrase", "Which campground in Yosemite has the best views?"),
    ("plain", "Do you sell GPS watches?"),
    ("plain", "Are you on Instagram?"),
    ("plain", "Do you give a bonus for referring a friend?"),
    ("plain", "Do you sell solar chargers?"),
    ("casual", "do you guys sell hammocks?"),
    ("plain", "Do you sell portable camp showers?"),
    ("plain", "Is there a Ridgeline Outfitters credit card?"),
    ("plain", "Do you sell binoculars?"),
]

HANDOFF = [
    ("plain", "I'm going to sue you if I don't get my money back today."),
    ("plain", "My lawyer will be contacting you about the stove that burned my hand."),
    ("plain", "I've filed a chargeback with my bank for my last order."),
    ("casual", "there's a charge from you on my card that i never made"),
    ("plain", "Someone hacked my account and changed my shipping address."),
    ("paraphrase", "I got an email asking for my password that looks like it's from you. Is my account compromised?"),
    ("plain", "Your delivery driver was abusive to me and I want to report it."),
    ("plain", "One of your support agents harassed me on the phone."),
    ("casual", "i want to talk to a manager right now"),
    ("typo", "i was charged twice for the same ordr and my bank says to dispute it"),
    ("plain", "My tent pole snapped and injured my child. I want to report a safety issue."),
    ("paraphrase", "I'm reporting you to the Better Business Bureau and the local news unless this is fixed."),
]


def _load(name: str) -> list[dict]:
    return json.loads((STORE / name).read_text(encoding="utf-8"))


def _base_name(name: str) -> str:
    for prefix in ("Men's ", "Women's ", "Kids' "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


MATERIALS = ("merino", "wool", "cotton", "leather", "suede", "nylon", "polyester", "titanium",
             "aluminum", "stainless steel", "steel", "silicone", "polycarbonate", "polypropylene", "TPU")


def _main_material(product: dict) -> str:
    """The first well-known material named in the product's materials, e.g. "nylon"."""
    text = product["materials"].lower()
    return min((m for m in MATERIALS if m.lower() in text), key=lambda m: text.index(m.lower()))


def product_questions(products: list[dict]) -> list[tuple]:
    """(style, question, doc_ids, key_fact) about the catalog, facts read from the data."""
    by_name = {p["name"]: p for p in products}

    def skus(*names: str) -> list[str]:
        return [f"product/{by_name[n]['sku']}" for n in names]

    def line(base: str) -> list[str]:
        return [f"product/{p['sku']}" for p in products if _base_name(p["name"]) == base]

    def spec(name: str, key: str) -> str:
        return by_name[name]["specs"][key]

    def lightest(word: str) -> dict:
        grams = lambda p: float(p["specs"]["Weight"].split()[0].replace(",", "")) * (  # noqa: E731
            1000 if p["specs"]["Weight"].endswith("kg") else 1)
        group = sorted((p for p in products if word in p["name"]), key=grams)
        assert grams(group[0]) < grams(group[1]), f"the lightest {word} is not unique"
        return group[0]

    def coldest_bag() -> dict:
        rated = [p for p in products if "Sleeping Bag" in p["name"] and "Temperature rating" in p["specs"]]
        degrees = lambda p: int(p["specs"]["Temperature rating"].split("°")[0])  # noqa: E731
        rated.sort(key=degrees)
        assert degrees(rated[0]) < degrees(rated[1]), "the warmest sleeping bag is not unique"
        return rated[0]

    tent, bag = lightest("Tent"), coldest_bag()
    rows = [
        ("plain", "Does the Trailhead jacket come in XL?", skus("Men's Trailhead Rain Jacket", "Women's Trailhead Rain Jacket"), "XL"),
        ("plain", "What's the waterproof rating of the Trailhead Rain Jacket?", line("Trailhead Rain Jacket"), spec("Men's Trailhead Rain Jacket", "Waterproof rating")),
        ("paraphrase", "How warm is the down in the Summit parka, what fill power?", line("Summit Down Parka"), "800-fill-power"),
        ("plain", "How much does the Men's Summit Down Parka cost?", skus("Men's Summit Down Parka"), money(by_name["Men's Summit Down Parka"]["price"])),
        ("typo", "what is the couloir shell made of", line("Couloir GTX Pro Shell"), "GORE-TEX Pro"),
        ("paraphrase", "Which of your jackets is made with GORE-TEX?", line("Couloir GTX Pro Shell"), "Couloir"),
        ("plain", "How much does the Women's Kettle Down Hoodie weigh?", skus("Women's Kettle Down Hoodie"), spec("Women's Kettle Down Hoodie", "Weight")),
        ("casual", "is the ptarmigan wind shell windproof?", line("Ptarmigan Wind Shell"), "Windproof"),
        ("plain", "How many liters is the biggest Switchback daypack?", skus("Switchback 30 Daypack"), spec("Switchback 30 Daypack", "Capacity")),
        ("plain", "Which tent is the lightest?", skus(tent["name"]), tent["name"].split(" Ultralight")[0].split(" Backpacking")[0]),
        ("paraphrase", "What's your warmest sleeping bag?", skus(bag["name"]), bag["name"].split(" Down")[0]),
        ("plain", "What's the R-value of the Loft Insulated Air Pad?", skus("Loft Insulated Air Pad"), spec("Loft Insulated Air Pad", "R-value")),
        ("plain", "How much does the Aspen 2P Backpacking Tent weigh?", skus("Aspen 2P Backpacking Tent"), spec("Aspen 2P Backpacking Tent", "Weight")),
        ("typo", "does the ridgline trek 65 come in diffrent torso sizes", skus("Ridgeline Trek 65 Pack"), "M/L"),
        ("plain", "How fast does the Firefly Canister Stove boil water?", skus("Firefly Canister Stove"), spec("Firefly Canister Stove", "Boil time")),
        ("plain", "How much water does the Gravity Water Filter hold?", skus("Gravity Water Filter"), spec("Gravity Water Filter", "Capacity")),
        ("paraphrase", "Can I stand up inside the Basecamp 6P tent? How tall is it?", skus("Basecamp 6P Family Tent"), spec("Basecamp 6P Family Tent", "Peak height")),
        ("plain", "What temperature are the Cascade Winter Boots rated to?", line("Cascade Winter Boots"), spec("Men's Cascade Winter Boots", "Temperature rating").split(" /")[0]),
        ("typo", "whats the heel drop on the scree trail runers", line("Scree Trail Runners"), spec("Men's Scree Trail Runners", "Drop")),
        ("casual", "how bright is the beacon 600R headlamp", skus("Beacon 600R Rechargeable Headlamp"), spec("Beacon 600R Rechargeable Headlamp", "Brightness")),
        ("plain", "Are the Granite Peak Hiking Boots waterproof?", line("Granite Peak Hiking Boots"), "RidgeDry"),
        ("plain", "What's the inseam on the men's Switchback Hiking Pants?", skus("Men's Switchback Hiking Pants"), "32 in"),
        ("paraphrase", "How much wool is in the Trail Merino hiking socks?", [f"product/{p['sku']}" for p in products if p["name"].startswith("Trail Merino")], "62% merino"),
        ("plain", "How big is the Canopy Ultralight Tarp?", skus("Canopy 3x3 Ultralight Tarp"), spec("Canopy 3x3 Ultralight Tarp", "Dimensions")),
        ("casual", "how much food fits in your bear canister", skus("Bear-Resistant Food Canister"), spec("Bear-Resistant Food Canister", "Volume")),
        ("paraphrase", "I want a jacket with a fleece liner that zips out. What do you have?", line("Alpenglow 3-in-1 Jacket"), "Alpenglow"),
        ("paraphrase", "Do you have a backpack that opens like a suitcase for travel?", skus("Roamer 45 Travel Pack"), "Roamer"),
        ("casual", "need something to keep grit out of my trail runners", skus("Scree Trail Gaiters"), "Scree Trail Gaiters"),
        ("paraphrase", "Which tent can handle heavy snow on a winter trip?", skus("Cirque 2P 4-Season Tent", "Cirque 3P 4-Season Tent"), "Cirque"),
        ("casual", "got a cheap sleeping bag for my kid?", skus("Cub 40°F Kids' Sleeping Bag"), money(by_name["Cub 40°F Kids' Sleeping Bag"]["price"])),
        ("typo", "how fine is the wool in the highline merino 150 crew", line("Highline Merino 150 Crew"), "17.5 micron"),
    ]
    # Questions that name a SKU: a spread of products across the catalog, facts from the data.
    templates = [
        ("plain", "What product is SKU {sku}?", lambda p: _base_name(p["name"])),
        ("plain", "How much is {sku}?", lambda p: money(p["price"])),
        ("casual", "whats {sku}", lambda p: _base_name(p["name"])),
        ("plain", "How much does {sku} weigh?", lambda p: next(v for k, v in p["specs"].items() if k.startswith("Weight"))),
        ("typo", "hw much does {sku} cost", lambda p: money(p["price"])),
        ("paraphrase", "What is item {sku} made of?", _main_material),
    ]
    for i, product in enumerate(products[3::9][:18]):
        style, template, fact = templates[i % len(templates)]
        rows.append((style, template.format(sku=product["sku"]), [f"product/{product['sku']}"], fact(product)))
    return rows


KEYWORDS = ("weather", "customs", "backlog", "apartment", "mechanical", "connection", "import duties",
            "change window", "before it was picked", "could not be authorized", "sold out", "address")


def _note_keyword(note: str) -> str:
    return next(k for k in KEYWORDS if k in note.lower())


def order_questions(orders: list[dict]) -> list[tuple]:
    """(style, question, doc_ids, key_fact, customer_id) about one customer's own order."""
    used: set[int] = set()

    def pick(status: str, n: int, skip=("A1042",)) -> list[dict]:
        chosen = []
        for order in orders:
            if order["status"] == status and order["number"] not in skip and order["customer_id"] not in used:
                chosen.append(order)
                used.add(order["customer_id"])
            if len(chosen) == n:
                return chosen
        raise ValueError(f"not enough {status} orders from distinct customers")

    a1042 = next(o for o in orders if o["number"] == "A1042")
    used.add(a1042["customer_id"])
    rows = [("plain", "Where is my order A1042?", a1042, a1042["tracking_number"])]
    s = pick("shipped", 4)
    rows += [
        ("plain", f"Where is my order {s[0]['number']}?", s[0], s[0]["tracking_number"]),
        ("paraphrase", f"Which delivery company is bringing order {s[1]['number']}?", s[1], s[1]["carrier"]),
        ("plain", f"When should order {s[2]['number']} arrive?", s[2], s[2]["estimated_delivery"]),
        ("typo", f"wheres my odrer {s[3]['number']}, do you have a tracking numbr", s[3], s[3]["tracking_number"]),
    ]
    d = pick("delayed", 4)
    rows += [
        ("plain", f"Why is my order {d[0]['number']} late?", d[0], _note_keyword(d[0]["status_note"])),
        ("casual", f"my package {d[1]['number']} should've been here by now, whats going on", d[1], "delayed"),
        ("paraphrase", f"Order {d[2]['number']} missed its delivery date. What's holding it up?", d[2], _note_keyword(d[2]["status_note"])),
        ("typo", f"is order {d[3]['number']} stuck somewere?", d[3], "delayed"),
    ]
    v = pick("delivered", 4)
    rows += [
        ("plain", f"Has order {v[0]['number']} been delivered?", v[0], "delivered"),
        ("plain", f"When was my order {v[1]['number']} delivered?", v[1], v[1]["delivered_at"][:10]),
        ("casual", f"did {v[2]['number']} arrive yet?", v[2], "delivered"),
        ("paraphrase", f"Which carrier delivered my order {v[3]['number']}?", v[3], v[3]["carrier"]),
    ]
    p = pick("processing", 3)
    rows += [
        ("plain", f"Has my order {p[0]['number']} shipped yet?", p[0], "processing"),
        ("typo", f"whats the status of ordr {p[1]['number']}", p[1], "processing"),
        ("paraphrase", f"Is order {p[2]['number']} still being packed?", p[2], "processing"),
    ]
    r = pick("returned", 3)
    rows += [
        ("plain", f"Did you receive my return for order {r[0]['number']}?", r[0], "received"),
        ("paraphrase", f"On what date did my returned items from {r[1]['number']} get to you?", r[1], r[1]["status_note"].split(" on ")[1][:10]),
        ("casual", f"whats happening with my return on {r[2]['number']}", r[2], "returned"),
    ]
    f = pick("refunded", 4)
    # "$49" rather than "$49.00": a correct answer may drop zero cents.
    amount = lambda o: "$" + o["status_note"].split("$")[1].split()[0].removesuffix(".00")  # noqa: E731
    rows += [
        ("plain", f"How much was refunded for order {f[0]['number']}?", f[0], amount(f[0])),
        ("paraphrase", f"What did I get back for order {f[1]['number']}?", f[1], amount(f[1])),
        ("plain", f"Was order {f[2]['number']} refunded?", f[2], "refunded"),
        ("typo", f"how much refnud did i get on {f[3]['number']}", f[3], amount(f[3])),
    ]
    c = pick("cancelled", 3)
    rows += [
        ("plain", f"Why was my order {c[0]['number']} cancelled?", c[0], _note_keyword(c[0]["status_note"])),
        ("casual", f"why did {c[1]['number']} get cancelled??", c[1], _note_keyword(c[1]["status_note"])),
        ("paraphrase", f"Was I charged for order {c[2]['number']}, which was cancelled?", c[2], "No payment was taken"),
    ]
    # "My last order" and "my jacket order": the question names no number.
    by_customer: dict[int, list[dict]] = {}
    for order in orders:
        by_customer.setdefault(order["customer_id"], []).append(order)
    last = [("plain", "What's the status of my last order?"), ("casual", "where's my most recent order at"),
            ("typo", "wheres my lastest order")]
    candidates = []
    for cid, mine in sorted(by_customer.items()):
        latest = max(mine, key=lambda o: o["placed_at"])
        if cid not in used and len(mine) >= 3 and latest["status"] in ("shipped", "delayed", "delivered"):
            candidates.append(latest)
    for (style, question), order in zip(last, candidates):
        used.add(order["customer_id"])
        rows.append((style, question, order, order["status"]))
    jacket = [("casual", "what's going on with my jacket order?"),
              ("paraphrase", "Has the jacket I ordered been sent out yet?")]
    candidates = []
    for cid, mine in sorted(by_customer.items()):
        jackets = [o for o in mine if any(i["sku"].startswith("RO-JKT") for i in o["items"])]
        if cid not in used and len(jackets) == 1 and jackets[0]["status"] in ("shipped", "delivered", "delayed"):
            candidates.append(jackets[0])
    for (style, question), order in zip(jacket, candidates):
        rows.append((style, question, order, order["status"]))
    return [(style, q, [f"order/{o['number']}"], fact, o["customer_id"]) for style, q, o, fact in rows]


def build_rows() -> list[dict]:
    products, orders = _load("products.json"), _load("orders.json")
    rows = []

    def add(kind, style, question, doc_ids, key_fact, customer_id=None):
        rows.append({"id": f"q{len(rows) + 1:04d}", "question": question, "kind": kind, "style": style,
                     "doc_ids": doc_ids, "key_fact": key_fact, "customer_id": customer_id})

    for style, question, docs, fact in POLICY:
        add("policy", style, question, [d if d == FAQ else f"policies/{d}" for d in docs], fact)
    by_base = {}
    for p in products:
        by_base.setdefault(_base_name(p["name"]), []).append(f"product/{p['sku']}")
    for style, question, fact, lines in FAQ_ONLY:
        add("faq", style, question, [FAQ] + [sku for base in lines for sku in by_base[base]], fact)
    for style, question, docs, fact in product_questions(products):
        add("sku" if "RO-" in question else "product", style, question, docs, fact)
    for style, question, docs, fact, cid in order_questions(orders):
        add("order", style, question, docs, fact, cid)
    for style, question in UNANSWERABLE:
        add("unanswerable", style, question, [], "")
    for style, question in HANDOFF:
        add("handoff", style, question, [], "")
    return rows


def main() -> None:
    rows = build_rows()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} questions to {OUT}")


if __name__ == "__main__":
    main()
