"""Policy and FAQ prose for the demo shop, written as templates over the shop's numbers.

Not run on its own: `python -m knowledge.demo_shop` calls policy_documents(shop) and
faq_markdown(shop) and writes the results under knowledge/demo/docs/. Every number a
shopper might ask about (return window, rates, thresholds, tiers) comes from the Shop
object, so the policies, the FAQ and the generated orders cannot drift apart.
"""

from __future__ import annotations


def money(amount: float) -> str:
    """$7.95 for cents, $99 for whole dollars: how the shop writes prices in prose."""
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def span(days: tuple[int, int]) -> str:
    return str(days[0]) if days[0] == days[1] else f"{days[0]}–{days[1]}"


def business_days(days: tuple[int, int]) -> str:
    """"1 business day", "2 business days", "3–7 business days"."""
    return f"{span(days)} business day{'' if days == (1, 1) else 's'}"


def _us_rate_table(shop) -> str:
    rows = [
        "| Method | Carriers | Delivery time after dispatch | Lower 48 states | Alaska & Hawaii |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rate in shop.us_rates:
        lower48 = money(rate.lower48)
        if rate.method == "Standard":
            lower48 += f" (free on orders of {money(shop.free_shipping_threshold)} or more)"
        time = business_days(rate.days)
        if rate.ak_hi_days != rate.days:
            time += f" ({business_days(rate.ak_hi_days)} to Alaska & Hawaii)"
        rows.append(f"| {rate.method} | {rate.carriers} | {time} | {lower48} | {money(rate.ak_hi)} |")
    return "\n".join(rows)


def _intl_rate_table(shop) -> str:
    rows = [
        "| Zone | Countries | International Standard | International Express |",
        "| --- | --- | --- | --- |",
    ]
    for zone in shop.intl_zones:
        rows.append(
            f"| {zone.name} | {', '.join(zone.countries.values())} | {money(zone.standard)}, "
            f"{business_days(zone.standard_days)} | {money(zone.express)}, "
            f"{business_days(zone.express_days)} |"
        )
    return "\n".join(rows)


def _tier_table(shop) -> str:
    rows = [
        "| Tier | Spend in the last 12 months | Points per $1 | Extra benefits |",
        "| --- | --- | --- | --- |",
    ]
    for i, tier in enumerate(shop.tiers):
        upper = shop.tiers[i + 1].min_spend - 1 if i + 1 < len(shop.tiers) else None
        spend = f"{money(tier.min_spend)}–{money(upper)}" if upper else f"{money(tier.min_spend)} or more"
        rows.append(f"| {tier.name} | {spend} | {tier.points_per_dollar:g} | {tier.perks} |")
    return "\n".join(rows)


def policy_documents(shop) -> dict[str, str]:
    """Every policy page as Markdown, keyed by slug (the file name under docs/policies/)."""
    s = shop
    trail, summit, peak = (t.name for t in s.tiers)
    standard, expedited, overnight = s.us_rates
    docs = {}

    docs["returns"] = f"""# Returns Policy

We want every piece of gear you buy from {s.name} to earn its place in your pack. If something isn't right, you can return most items for a refund within **{s.return_days} days of delivery**. This page explains what we accept, what we can't take back and how to send a return.

## Return window

- You have **{s.return_days} days from the delivery date** shown in your tracking to start a return.
- Orders delivered between November 15 and December 24 can be returned until **January 31** of the following year, so holiday gifts can be swapped after the holidays.
- Returns that arrive after the window has closed are sent back to you at our cost.

## Condition requirements

We can resell returned gear only if it comes back the way it left us:

- Apparel must be **unworn, unwashed and undamaged, with the original tags attached**.
- Footwear must be tried on indoors only: clean soles, no trail wear, packed in the original shoe box (put the shoe box inside a shipping box; don't tape the label to the shoe box).
- Tents, sleeping bags and sleeping pads must be unused and packed in their original stuff sacks.
- Stoves must be unused and must never have been connected to fuel.

## Worn or used items

We can't accept worn or used items as ordinary returns. Gear that has been on the trail, washed or altered cannot be resold. If a used item has failed because of a defect in materials or workmanship, it is covered by our [Warranty Policy](warranty.md) instead, which lasts up to a lifetime depending on the product.

If a used item reaches our returns center anyway, we will either ship it back to you at no cost or, if you agree, issue a partial refund as described in our Refunds Policy.

## Final-sale items

The following cannot be returned or exchanged:

- Items marked **Final Sale** on the product page (usually clearance at 40% or more off).
- Gift cards, physical or electronic.
- Isobutane fuel canisters, because carriers won't accept them as returns.
- Base-layer bottoms, leggings and underwear (such as boxer briefs and sports bras) once removed from their sealed packaging, for hygiene reasons.
- Water filters that have been used.

## How to start a return

1. Go to **{s.domain}/returns** and enter your order number (for example A1234) and the email address you ordered with. Guest orders work the same way.
2. Choose the items you're returning and tell us why. Choose "Exchange" instead if you only need a different size or color (see our Exchanges Policy).
3. Print the prepaid UPS label we email you, or choose to send the parcel with your own carrier.
4. Pack the items securely with the packing slip and drop the parcel at any UPS location. Labels expire **{s.label_valid_days} days** after they are created.

If you can't use the online form, contact us at {s.support_email} and we will set up the return for you.

## Return shipping cost

| Situation | Return shipping |
| --- | --- |
| US return with our prepaid UPS label | {money(s.return_label_fee)}, deducted from your refund |
| {summit} or {peak} Rewards member | Free |
| Exchange for a different size or color | Free |
| Item arrived damaged, defective or not what you ordered | Free |
| Return from outside the United States | You arrange and pay for shipping |

If you use your own carrier, choose a tracked service: we can't refund a return that never reaches us.

## After we receive your return

Returns go to our returns center at {s.returns_address}. We inspect every return within **{s.inspection_days} business days** of its arrival and email you when your refund is issued. While we inspect it, your order status shows **returned**; once the refund has been issued it changes to **refunded**. Timing by payment method is in our Refunds Policy.
"""

    docs["refunds"] = f"""# Refunds Policy

This policy explains when and how we refund returned items, cancelled orders and parcels that go missing. For what can be returned in the first place, see our Returns Policy.

## When we issue your refund

We issue a refund within **{s.inspection_days} business days** after your return arrives at our returns center in Golden, Colorado and passes inspection. You'll get an email confirming the amount and the payment method it went back to. Refunds always go to the original payment method; we can't send a refund to a different card or account.

## How long until you see the money

Once we've issued the refund, how quickly it shows up depends on how you paid:

| Payment method | Where the refund goes | Typical time after we issue it |
| --- | --- | --- |
| Credit or debit card (Visa, Mastercard, American Express, Discover) | The original card | 5–10 business days |
| Apple Pay or Google Pay | The card linked to your wallet | 5–10 business days |
| PayPal | Your PayPal account | 3–5 business days |
| Klarna Pay in 4 | Your Klarna payment plan is reduced | Within 5 business days |
| {s.name} gift card | A new e-gift card, emailed to you | Within 1 hour |

For Klarna orders, Klarna first cancels any remaining instalments and then refunds instalments you've already paid.

## Original shipping charges

- Original shipping charges are **not refundable**, unless the return is because of our mistake: an item that arrived damaged or defective, or the wrong item. In those cases we refund the shipping you paid as well.
- If returning part of an order takes its value below the {money(s.free_shipping_threshold)} free-shipping threshold, we don't charge you for the shipping you didn't pay.
- When a parcel is lost in transit we refund the full order, shipping included (see our Damaged or Lost Parcels policy).

## Return label fee

If you used our prepaid UPS return label, **{money(s.return_label_fee)}** is deducted from your refund. The fee is waived for {summit} and {peak} Rewards members, for exchanges and for items that arrived damaged, defective or incorrect.

## Partial refunds

Sometimes we refund less than the full price you paid:

- **Part of an order returned.** We refund only the items you send back. If you used a Ridgeline Rewards reward or another discount, it is spread across the items in proportion to their price, and the refund for each item is reduced by its share.
- **Items showing wear, washed, or without tags.** We'll contact you first. You can accept a partial refund of up to 50% of the item price or have the item shipped back to you free.
- **Footwear returned without the original shoe box.** We deduct $10 per pair.

## Refunds for cancelled orders

We charge cards only when an order ships, so if your order is cancelled before it leaves our warehouse there is nothing to refund: the authorization hold is released and disappears from your statement within 3–5 business days, depending on your bank.

## My refund hasn't arrived

If more than 10 business days have passed since our refund email, contact us at {s.support_email} with your order number. We'll send you the refund reference number (ARN), which your bank can use to trace the payment.
"""

    docs["exchanges"] = f"""# Exchanges Policy

Ordered the wrong size? Changed your mind about the color? Exchanges are the fastest way to get the right gear, and within the US they are free.

## What can be exchanged

- You can exchange an item for the **same product in a different size or color** within **{s.return_days} days of delivery**.
- The item must meet the same condition rules as a return: unworn, unwashed and with the original tags, or for footwear, tried on indoors only and in the original box.
- Final-sale items can't be exchanged.
- If you want a **different product**, return the original item for a refund and place a new order. That way you also get any current price on the new item.

All sizes and colors of a product are sold at the same price, so an exchange never costs more or less than your original item.

## How to request an exchange

1. Go to **{s.domain}/returns**, enter your order number and email address and choose **Exchange**.
2. Pick the new size or color. We reserve it from our stock straight away and hold it for **{s.label_valid_days} days**.
3. Print the free prepaid UPS label and drop the parcel at any UPS location.

## When the replacement ships

- **Standard exchange:** we ship the replacement by Standard shipping as soon as the carrier scans your parcel for the first time. You don't have to wait for it to reach us.
- **Instant exchange ({summit} and {peak} members):** we ship the replacement immediately. We place an authorization for the item's price on your card and release it when your original item arrives. If it hasn't reached us within {s.label_valid_days} days, we charge the card.

You can upgrade the replacement to Expedited shipping for the usual rate of {money(expedited.lower48)}.

## What an exchange costs

### Within the United States

Exchanges are free both ways: we pay for the return label and for shipping the replacement. This covers **one exchange per item**. A second exchange of the same item needs a paid return label, at the usual {money(s.return_label_fee)}.

### Outside the United States

We can't offer exchanges on international orders. Please return the item for a refund under our Returns Policy and place a new order for the size or color you want.

## If your new size or color sells out

Stock is reserved when you request the exchange, but if a reservation expires and the item sells out, we'll contact you and offer:

- a different color in your size,
- a refund to your original payment method, or
- a {s.name} e-gift card for the full value.

## Exchanging a gift

If you received the item as a gift, use the order number from the gift receipt. The replacement is sent to you, and the person who bought the gift isn't notified.
"""

    docs["shipping"] = f"""# Shipping Policy

We ship every order from our warehouse in {s.city}. This page covers shipping within the United States; for other countries see our International Shipping policy.

## Processing time

- Orders leave our warehouse within **{s.processing_days} business days**. Business days are Monday to Friday, excluding US federal holidays.
- **Overnight** orders placed before **{s.overnight_cutoff}** on a business day ship the same day.
- During big sale events processing can take up to 3 business days; we'll say so on the homepage.
- Your card is charged when your order ships, not when you place it (see our Payment Methods policy).

## Shipping methods and rates

{_us_rate_table(s)}

Delivery times are counted from the day your order ships, not the day you place it. Carriers don't deliver our Expedited and Overnight parcels on weekends.

## Free shipping

Standard shipping is **free on orders of {money(s.free_shipping_threshold)} or more** delivered in the lower 48 states. The threshold applies to the value of the merchandise after discounts and rewards, and doesn't include gift cards.

Free shipping doesn't apply to:

- Expedited or Overnight shipping, which are always charged at the rates above,
- Alaska, Hawaii and US territories,
- international orders (see our International Shipping policy for the international threshold).

## US territories, PO Boxes and military addresses

- We ship to Puerto Rico, Guam, the US Virgin Islands and APO/FPO/DPO addresses by **USPS only**, using Standard shipping at **{money(s.territory_rate)}**, delivered in {span(s.territory_days)} business days.
- PO Boxes can only receive Standard shipping by USPS. Expedited and Overnight orders need a street address.

## Tracking your order

When your order ships, we email you the carrier and tracking number. You can also follow your order under **Account > Orders**, where it shows one of these statuses:

- **processing**: we've received your order and are packing it,
- **shipped**: the carrier has it and it's on its way,
- **delayed**: the parcel has missed its estimated delivery date; the carrier's reason is shown when we know it,
- **delivered**: the carrier has confirmed delivery.

## Signatures and split shipments

- Orders worth **{money(s.signature_threshold)} or more** need a signature on delivery.
- Large orders sometimes ship in more than one box. You pay shipping only once, and each box gets its own tracking number.

## Fuel canisters

Isobutane fuel canisters are classed as hazardous materials. Orders that contain them ship by **Standard ground shipping to the lower 48 states only** and can't be sent by Expedited or Overnight.

## If your parcel is late

Estimated delivery dates come from the carrier and are not guaranteed. If your order is more than 5 business days past its estimated delivery date, contact us and we'll open a trace with the carrier. See our Damaged or Lost Parcels policy for when a parcel counts as lost.
"""

    zone_codes = ", ".join(name for z in s.intl_zones for name in z.countries.values())
    docs["international-shipping"] = f"""# International Shipping

We ship from {s.city} to {sum(len(z.countries) for z in s.intl_zones)} countries outside the United States. International orders are carried by DHL and charged in US dollars.

## Where we ship

We currently ship to: {zone_codes}. We can't ship to other countries yet, and we can't forward orders through package-forwarding services.

## Rates and delivery times

{_intl_rate_table(s)}

- International Standard is **free on orders of {money(s.intl_free_threshold)} or more** (merchandise value after discounts).
- Delivery times are counted from dispatch and don't include time spent in customs, which usually adds 2–5 business days.
- DHL needs a phone number for every international delivery and can't deliver to PO Boxes.

## Duties and taxes

Our prices don't include import duties, VAT, GST or customs brokerage fees. International orders are shipped **duties unpaid**: DHL collects any duties and taxes from you before or at delivery, and will usually contact you by email or text to pay online.

Whether you owe anything depends on your country's import rules and the value of your order. We can't predict the exact amount, so check with your local customs authority if you're unsure.

If you refuse to pay duties and the parcel comes back to us, we refund the merchandise value minus the original shipping charge and the return freight DHL charges us.

## Currency

All prices are in **US dollars (USD)** and all payments are taken in USD. If your card is in another currency, your bank converts the amount and may charge a foreign transaction fee.

## Restricted items

Some products can't leave the United States with us:

- **Isobutane fuel canisters** can't be shipped internationally (they can only travel by ground within the lower 48 states).
- **Headlamps with built-in lithium-ion batteries** can't be shipped internationally.

If your cart contains a restricted item, checkout will ask you to remove it before you can pay.

## Returns from outside the United States

- The same **{s.return_days}-day return window** applies, counted from delivery.
- You arrange and pay for return shipping; we can't provide prepaid labels outside the US. Use a tracked service and mark the parcel "Returned goods".
- We refund the merchandise value once the return arrives. We can't refund duties or taxes you paid, but many customs authorities will refund import charges on returned goods if you apply to them directly.
- Exchanges aren't available on international orders: please return the item and place a new order.

## Delays at customs

If your parcel is held at customs, DHL will contact you if they need documents or payment. The order status shows **delayed** while it's held. If you haven't heard anything after 5 business days, contact us at {s.support_email} and we'll follow up with DHL.
"""

    docs["order-changes-and-cancellation"] = f"""# Order Changes and Cancellations

Mistakes happen. You can change or cancel your order yourself for a short time after placing it, and after that our support team will do what they can until it ships.

## The {s.change_window_minutes}-minute change window

For **{s.change_window_minutes} minutes** after you place an order you can change or cancel it yourself:

- signed in: go to **Account > Orders** and choose **Edit order**,
- as a guest: use the **Manage your order** link in your confirmation email.

## What you can change in the window

- The shipping address, if the new address is in the same country.
- The shipping method, for example upgrading from Standard to Expedited.
- The size or color of an item.
- Removing an item, or cancelling the whole order.

### What you can't change

- **Adding items.** Place a second order instead. Each order is shipped and charged separately.
- **The payment method.** Cancel the order and place it again with the new payment method.
- **Gift cards** can't be changed once purchased.

## After the window has closed

After {s.change_window_minutes} minutes your order goes to our warehouse team, who usually pick it within 4 business hours. Contact us at {s.support_email} or {s.phone} as soon as possible. We'll try to make the change, but we can't promise, and once an order has the status **shipped** it can no longer be changed or cancelled.

## Once your order has shipped

- **To cancel:** you can't stop a shipped order, but you can return it under our Returns Policy once it arrives. You can also refuse delivery; when the parcel gets back to us we refund it minus the original shipping and the {money(s.return_label_fee)} return label fee.
- **To change the address:** use the carrier's own service (UPS My Choice, FedEx Delivery Manager or USPS Package Intercept). Carriers may charge for this, and we can't make the change for you.

## When we cancel an order

Occasionally we have to cancel an order ourselves, for example when:

- the payment can't be authorized when the order is ready to ship, and isn't updated within 3 days of our email,
- an item sold out before we could pick it,
- we can't verify the shipping address, or
- we suspect the order is fraudulent.

We'll always email you to explain. If only one item is affected, we cancel that item and ship the rest.

## Will I be charged for a cancelled order?

No. We authorize your payment when you order and only charge it when the order ships, so a cancelled order is never charged. Your bank releases the authorization hold, usually within 3–5 business days. Ridgeline Rewards points used on a cancelled order are returned to your account straight away.
"""

    docs["damaged-or-lost-parcels"] = f"""# Damaged, Missing or Lost Parcels

Most parcels arrive safely, but when one doesn't, we'll put it right. You don't need to contact the carrier yourself: we handle claims with UPS, USPS, FedEx and DHL.

## If your order arrives damaged

Report damage within **{s.damage_report_days} days of delivery** at {s.support_email} or through chat, with:

- photos of the outer box from all sides, including the shipping label,
- photos of the damaged item or items,
- a photo of the packaging inside the box.

Please keep the box and packaging until we've resolved your case, because the carrier may ask to inspect them.

## If something is missing from your parcel

Check your packing slip first: items marked "ships separately" come in a second box with its own tracking number. If an item is still missing, report it within **{s.damage_report_days} days of delivery** with a photo of the packing slip and the box contents.

## Marked as delivered, but not received

1. Wait one business day. Carriers sometimes scan parcels as delivered a little early.
2. Check around your property, with neighbors, and in any mailroom or parcel locker.
3. If it still hasn't turned up, contact us within **{s.not_received_report_days} days of the delivery scan**.

We'll open a trace with the carrier, which takes up to 5 business days. Orders that needed a signature are traced using the signature record.

## When a parcel counts as lost

| Shipment | Counts as lost when |
| --- | --- |
| US (Standard, Expedited, Overnight) | No tracking update for **{s.lost_domestic_days} business days**, or 10 business days past the estimated delivery date |
| International | No tracking update for **{s.lost_intl_days} business days** |
| Marked delivered but not received | The carrier trace finds no delivery |

A parcel showing **delayed** is not lost: it has missed its estimated date but is still moving through the carrier's network. Weather, carrier backlogs and customs checks are the usual reasons.

## Replacement or refund

When a parcel is damaged, incomplete or lost, you choose what happens next:

- **Replacement:** we send the same items by **Expedited shipping at no cost**, as long as they are in stock.
- **Refund:** we refund the affected items, or the whole order if the parcel is lost, **including the original shipping charge**.

We issue replacements and refunds within {s.inspection_days} business days of your choice. For damaged items we usually don't need them back, but if we do, we'll send a free return label.

## Carrier claims

We file the claim with the carrier ourselves, so you never have to wait for a carrier's decision. If you bought extra insurance from a carrier yourself, contact that carrier directly.

## If a lost parcel turns up later

If the original parcel arrives after we've sent a replacement or a refund, please tell us. You can return the extra items with a free label, or keep them and we'll charge the original payment method for them.
"""

    docs["warranty"] = f"""# Warranty Policy

Gear that fails because of how it was made should be fixed or replaced, not thrown away. Everything we sell is covered against **defects in materials and workmanship** for the period below, counted from the date your order was delivered.

## Coverage by category

| Category | Warranty period |
| --- | --- |
| Backpacks | Lifetime of the product |
| Tents & Shelters | Lifetime of the product |
| Sleeping Bags & Pads | Lifetime of the product |
| Jackets, Fleece & Midlayers, Base Layers, Pants & Shorts | 2 years |
| Accessories (socks, hats, gloves, poles, gaiters, dry bags) | 2 years |
| Footwear | 1 year |
| Camp Kitchen (stoves, cookware, water filters) | 1 year |
| Headlamps | 1 year |

"Lifetime" means the useful life of the product with normal care, for the original owner. It doesn't mean we'll replace a pack worn out after fifteen years of use.

## What the warranty covers

- Seams that open or tape that peels away under normal use.
- Delamination of waterproof membranes.
- Zippers, buckles, snaps and cord locks that fail under normal use.
- Soles that separate from the upper (footwear, within 1 year).
- Tent poles or frame sheets that break without an obvious impact.
- Stoves and headlamps that stop working under normal use.

## What the warranty doesn't cover

- Normal wear and tear: abrasion, pilling, faded color, worn-out tread, and water repellency (DWR) that has worn off over time.
- Accidental damage: tears from rocks or branches, burns from campfires or stoves, damage from animals.
- Damage from improper care, such as washing down with fabric softener, storing a tent wet, or letting a wet water filter freeze.
- Items that have been altered or repaired by someone other than us.
- Lost parts, or gear used for rental or commercial purposes.
- Products not bought from {s.name} or an authorized retailer.

## How to make a warranty claim

1. Fill in the form at **{s.domain}/warranty** or email **{s.warranty_email}**. Include your order number (or the email address you ordered with and the approximate purchase date), photos of the defect and of the product's care label, and a short description of what happened.
2. We reply within 2 business days. If we need to see the item, we send a **free prepaid return label** for US addresses.
3. Our repair team assesses the item within **10 business days** of its arrival.

No receipt? If you ordered from us with an account, we can find the purchase. For gifts, we can estimate the purchase date from the production code on the care label.

## What happens after assessment

We aim to **repair first**, because it keeps gear in use. If the product can't be repaired, we replace it with the same item or the closest current equivalent. If neither is possible (for example, the product has been discontinued), we issue a {s.name} e-gift card for the price you paid.

A replacement keeps the original warranty period, counted from your original delivery date.

## Outside the warranty

Gear that isn't covered can often still be fixed for a modest price: see our Repairs policy.
"""

    docs["price-adjustment"] = f"""# Price Adjustments and Price Matching

Nobody likes seeing a lower price right after checking out. This policy explains when we refund the difference and why we don't match other stores' prices.

## {s.price_adjustment_days}-day price adjustment

If we lower the price of an item on {s.domain} within **{s.price_adjustment_days} days of the date you placed your order**, we'll refund the difference.

- It covers the same product in the same size and color.
- You can get a price adjustment **once per item**.
- It applies whether your order has shipped or not.

### Example

You buy a jacket for $200 on March 3. On March 12 its price drops to $160. Contact us by March 17 (within {s.price_adjustment_days} days of your order) and we refund $40.

## How to request a price adjustment

Contact us by chat or at {s.support_email} with your order number and the item. You don't need to send a screenshot: we check our own price history. We refund the difference to your original payment method within {s.inspection_days} business days. Orders paid with a gift card get the difference as a new e-gift card, and Klarna orders get a reduced payment plan.

## What isn't eligible

Price adjustments don't apply to:

- items marked **Final Sale** or items in our clearance section,
- lower prices from promo codes, bundle deals or free-gift offers,
- Ridgeline Rewards rewards, or the student, military and first responder discount,
- items you've already returned,
- gift cards.

## Competitor price matching

Almost everything we sell is designed by us and sold only through {s.domain}, so **we don't match other retailers' prices**, including marketplaces and auction sites.

## Forgot a promo code?

If a promo code was live when you ordered but you forgot to enter it, contact us within **7 days of ordering** and we'll refund the discount it would have given. Only one promo code can be used per order.

## Prices on international orders

All prices are in US dollars. Price adjustments are refunded in US dollars too, so changes in exchange rates aren't covered.
"""

    docs["loyalty-programme"] = f"""# Ridgeline Rewards Loyalty Program

Ridgeline Rewards is our free loyalty program. You earn points on every order, move up tiers as you spend more, and turn points into money off your next adventure.

## Joining

Every {s.name} account is automatically a Ridgeline Rewards account; there's nothing to sign up for and no fee. Orders placed as a guest can be added to your account within 30 days of ordering: ask our support team.

## Earning points

- You earn points on the merchandise you buy, after discounts and rewards. Shipping charges and gift card purchases don't earn points.
- How many points you earn for each $1 depends on your tier (see below).
- Points are **pending until your order ships**, then added to your balance.
- If you return an item, the points earned on it are taken off your balance.

Other ways to earn:

- **{s.birthday_points} bonus points** in your birthday month (add your birthday under Account > Profile).
- **{s.review_points} points** for each product review you write, up to 10 reviews a year.

## Tiers

Your tier is based on how much you've spent with us in the **last 12 months** and is updated every night.

{_tier_table(s)}

Every member, whatever their tier, gets the birthday bonus and members-only offers by email.

## Redeeming points

- **{s.points_per_reward} points = {money(s.reward_value)} off** your order. Points are redeemed in blocks of {s.points_per_reward} at checkout.
- You can use up to **{money(s.max_reward_per_order)}** in rewards on a single order.
- Rewards can't be used to buy gift cards and can't be exchanged for cash.
- If you cancel an order, the points you used come back straight away. If you return items, the reward is shared across the items and isn't refunded as cash.

## Points expiry

Points **expire {s.points_expiry_months} months after the date you earn them**. Your account page shows how many points expire in the next 30 days, and we email you a reminder before any points expire.

## Tier benefits in detail

- **Free return shipping** ({summit} and {peak}): no {money(s.return_label_fee)} label fee on US returns.
- **Instant exchanges** ({summit} and {peak}): we ship your replacement before your return arrives (see our Exchanges Policy).
- **Early access** ({summit} and {peak}): shop our seasonal sales 24 hours before everyone else.
- **Free repair labor** ({peak}): up to 2 out-of-warranty repairs a year with no labor charge (see our Repairs policy).

## Closing your account

If you close your account, your points and tier are forfeited and can't be transferred to another person.
"""

    docs["payment-methods"] = f"""# Payment Methods

We want paying to be as easy as packing, so we accept the most common payment methods. This page explains what we accept, when you're charged and what to do if a payment is declined.

## What we accept

- **Credit and debit cards:** Visa, Mastercard, American Express and Discover.
- **PayPal**, including PayPal Pay Later where PayPal offers it.
- **Apple Pay** (Safari on iPhone, iPad and Mac) and **Google Pay**.
- **{s.name} gift cards**, physical or electronic.
- **Klarna Pay in 4**, for orders from {money(s.klarna_min)} to {money(s.klarna_max)} with a US billing address.

## What we don't accept

We don't accept cryptocurrency, checks, money orders, cash on delivery, wire transfers or purchase orders.

## When you're charged

- When you place an order, we **authorize** your payment. This places a temporary hold on your card for the order amount.
- We only **charge** your payment method **when your order ships**. If your order ships in more than one box, each box is charged separately when it ships, and the total never exceeds the amount you authorized.
- Gift card balances are deducted when you place the order.
- If an order is cancelled before it ships, nothing is charged and your bank releases the hold, usually within 3–5 business days.

## Klarna Pay in 4

Klarna splits your purchase into **4 interest-free payments every 2 weeks**. The first payment is taken when your order ships. Klarna decides whether to approve you and may charge late fees if a payment is missed; questions about your payment plan go to Klarna.

## Currency

Every order is charged in **US dollars**, wherever you live. If your card is in another currency, your bank does the conversion and may add a foreign transaction fee.

## Combining payment methods

You can combine one or more gift cards with one other payment method. It isn't possible to split an order between two credit cards, or between a card and PayPal.

## Payment security

Card payments go through our payment processor, which is certified to PCI DSS Level 1. We never see or store your full card number: we keep only the card brand, the last four digits and the expiry date so you can recognize the card in your account. Some banks ask you to confirm a payment with 3-D Secure (for example a code sent by text).

## If your payment is declined

Common reasons are a billing address that doesn't match the card, an expired card, or your bank's fraud checks. If the payment can't be authorized when your order is ready to ship, we email you and hold the order for **3 days** so you can update your payment details in your account. After that the order is cancelled.
"""

    docs["privacy"] = f"""# Privacy Policy

This policy explains what personal information {s.name} collects, how we use it, how long we keep it, and the choices you have. {s.name} is based in {s.city} and is responsible for the information described here. Last updated: September 15, 2026.

## What we collect

- **Account details:** name, email address, password (stored only as a secure hash), phone number and saved addresses.
- **Order details:** what you bought, shipping and billing addresses, and order history.
- **Payment details:** handled by our payment processor. We keep only the card brand, last four digits and expiry date.
- **Support conversations:** emails, phone notes, and chat transcripts, including conversations with our virtual assistant.
- **Ridgeline Rewards activity:** points, tier and reviews you write.
- **Website use:** pages viewed, device and browser type, and cookies (see below).

## How we use it

- To process, ship and support your orders, returns and warranty claims.
- To run Ridgeline Rewards.
- To answer your questions and improve our support, including reviewing chat transcripts to make our virtual assistant's answers more accurate.
- To send marketing emails, but only if you've opted in. Every email has an unsubscribe link.
- To prevent fraud and meet our legal and tax obligations.

## How long we keep it

| Information | How long we keep it |
| --- | --- |
| Order and invoice records | 7 years, for tax and accounting law |
| Account profile | Until you close your account, then deleted within 30 days |
| Support emails and chat transcripts | 24 months |
| Marketing preferences | Until you unsubscribe or close your account |
| Website analytics | 13 months |
| Saved payment card references | Until you remove the card, or 18 months after last use |

## Who we share it with

We share information only with the companies that help us run the shop: carriers (UPS, USPS, FedEx and DHL), our payment processor, PayPal and Klarna when you use them, our email provider and our hosting provider. **We don't sell your personal information**, and we don't share it for cross-context behavioral advertising.

## Your rights

Wherever you live, you can ask us to:

- give you a copy of the personal information we hold about you,
- correct information that's wrong,
- delete your information (we keep order records we're legally required to keep),
- send your information in a portable format,
- stop sending you marketing.

Residents of California, the EU, the UK and other places with privacy laws have these rights by law, including the right to appeal a decision we make about a request. We answer requests within **30 days**. To protect your account, we confirm your identity by email before acting on a request.

## Cookies

We use essential cookies to run the shop (your cart and sign-in) and, only with your consent, analytics cookies to understand how the site is used. You can change your choice at any time with the **Cookie settings** link at the bottom of every page.

## Children

Our shop is not directed at children under 13, and we don't knowingly collect their information.

## Contact

Email **{s.privacy_email}** or write to {s.name} Privacy, {s.street_address}. To delete your account, you can also use **Account > Privacy > Delete my account**.
"""

    docs["gift-cards"] = f"""# Gift Cards

A {s.name} gift card is the easy answer when you don't know someone's size or whether they already own a stove. This page covers buying, using and replacing gift cards.

## Types of gift card

| Type | Amounts | Delivery |
| --- | --- | --- |
| E-gift card | Any whole-dollar amount from $25 to $500 | By email, immediately or on a date you choose up to 90 days ahead |
| Physical gift card | $25, $50, $100 or $250 | Free Standard shipping within the US, in a recycled card sleeve |

You can add a personal message of up to 200 characters to any gift card.

## Using a gift card

- Enter the 16-digit card number and 4-digit PIN at checkout.
- You can use up to **5 gift cards** on one order, and combine them with one other payment method.
- Any remaining balance stays on the card for next time.
- Gift cards can be used on {s.domain} and by phone through our support team.

## Expiry and fees

{s.name} gift cards **never expire**, and there are no activation, inactivity or service fees.

## Checking your balance

Check your balance at **{s.domain}/gift-card-balance** with the card number and PIN, or ask our support team.

## Lost or stolen gift cards

Treat a gift card like cash. We can replace the remaining balance of a lost or stolen card only if you can give us the original order number for the gift card, or the card was saved to your account. We can't replace balance that someone has already spent.

## Returns and refunds

- Gift cards are **final sale** and can't be returned or exchanged.
- Items you paid for with a gift card are refunded to a new e-gift card, usually within 1 hour of the refund being issued.
- Gift cards can't be redeemed for cash, except where the law requires it. For example, in California we'll pay out a remaining balance under $10 in cash on request.

## Restrictions

- You can't buy gift cards with another gift card or with Ridgeline Rewards rewards.
- Buying a gift card doesn't earn Ridgeline Rewards points; whoever spends the card earns the points on what they buy.
- Gift cards can only be shipped to US addresses, but e-gift cards can be emailed to anyone and used on international orders.
"""

    docs["repairs"] = f"""# Repairs

Repairing gear keeps it out of landfill and often costs less than replacing it. Our repair team in {s.city} fixes our own products, whether or not they're still under warranty.

## Repairs under warranty

If the damage is caused by a defect and the item is within its warranty period, the repair is **free**, including shipping both ways within the US. Start a warranty claim as described in our Warranty Policy.

## Paid repairs

For wear and tear, accidents and items outside their warranty we offer paid repairs at fixed prices:

| Repair | Price |
| --- | --- |
| Zipper slider replacement | $15 |
| Full zipper replacement (jackets and pants) | $45 |
| Small patch (up to 2 in / 5 cm) | $10 |
| Large patch | $25 |
| Seam re-taping on waterproof gear, per seam | $35 |
| Down baffle repair | $30 |
| Pack buckle or strap replacement, per part | $8 |
| Tent pole section replacement, per section | $12 |

We don't resole footwear or repair electronics such as headlamps. {peak} Rewards members get up to 2 paid repairs a year with no labor charge; they pay only for parts.

## How to send an item for repair

1. Fill in the form at **{s.domain}/repairs** and describe the damage. Photos help us quote accurately.
2. Send the item to {s.returns_address}, marked "Repairs". For paid repairs you pay the postage to us; we ship the repaired item back for free by Standard shipping.
3. Within **3 business days** of the item's arrival we email you a quote. We never start work until you approve it.
4. If you decline the quote, we send the item back free of charge.

### Please clean your gear first

Items must be clean and dry. We return muddy or damp items unrepaired, because they can damage other customers' gear in our workshop.

## Turnaround time

Most repairs take **3–4 weeks** from approval to dispatch. Between October and December, when many people get their winter gear ready, they can take up to 6 weeks.

## Repairs you can do yourself

Small snags and holes can be fixed on the trail with our Field Repair Kit, which includes adhesive patches for jackets, tents and sleeping pads. Our product care guide explains how to keep zippers and waterproof coatings working.

## Replacement parts

We sell replacement tent poles, pack buckles and stuff sacks for current products. Contact us at {s.support_email} with the product name and the part you need.
"""

    docs["student-and-military-discount"] = f"""# Student, Military and First Responder Discount

We owe a lot to the people who study, serve and respond. Eligible customers get **{s.student_discount_pct}% off full-price items** on {s.domain}.

## Who qualifies

- **Students** aged 16 or over enrolled at an accredited US college or university, including graduate students and community college students.
- **Military:** active duty, reserve and National Guard members, veterans and retirees of the US armed forces, and their spouses and dependents.
- **First responders:** firefighters, EMTs and paramedics, and law enforcement officers in the US.

The discount is available only to customers with a US shipping address.

## How to verify

1. Go to **{s.domain}/verify** and choose student, military or first responder.
2. Our verification partner checks your eligibility, usually instantly. If they need documents, such as an enrollment letter or military ID with personal details blacked out, it can take up to 24 hours.
3. Once verified, you can request a single-use discount code from **Account > Discounts** whenever you shop.

Verification lasts **12 months**, after which you'll be asked to verify again. You can request up to 10 codes per verification year. We don't see or keep the documents you upload; our partner deletes them after checking.

## What the discount applies to

- {s.student_discount_pct}% off **full-price** items.
- It doesn't apply to sale or clearance items, final-sale items or gift cards.
- It can't be combined with other promo codes, but you can use Ridgeline Rewards rewards on the same order.
- You earn Ridgeline Rewards points on the discounted amount.
- Free Standard shipping still applies when your order is {money(s.free_shipping_threshold)} or more after the discount.

## Forgot to use your code?

If you were verified when you ordered but forgot the code, contact us within **{s.price_adjustment_days} days of ordering** and we'll refund the discount to your original payment method.

## Returns

If you return an item bought with the discount, you get back the discounted price you paid.
"""

    docs["product-care"] = f"""# Product Care Guide

Good care keeps gear performing for years, and some warranty claims depend on it. Always check the care label first; the tips below cover most of what we sell.

## Waterproof jackets and pants

- Wash when the fabric looks dirty or stops beading water. Dirt and skin oils block breathability.
- Close all zips and Velcro, then machine wash warm (86°F / 30°C) with a technical wash made for waterproof fabrics.
- **Never use fabric softener** or bleach. They clog the membrane.
- Tumble dry on low for 20 minutes. The heat reactivates the DWR (durable water repellent) finish.
- When water no longer beads after washing and drying, apply a spray-on or wash-in reproofer.

## Down jackets and sleeping bags

- Wash only when needed, no more than once or twice a year for sleeping bags.
- Use a front-loading machine on a gentle cycle with a down-specific wash.
- Tumble dry on low with two or three clean tennis balls or dryer balls to break up clumps. It can take 2–3 hours. Make sure the down is completely dry before storing it.
- Store down loose in the large storage sack it came with, **never in its compression stuff sack**, so the down keeps its loft.

## Merino and synthetic base layers

- Merino doesn't need washing after every wear: airing it overnight is often enough.
- Machine wash cold on a gentle cycle, turned inside out, and lay flat to dry. Don't tumble dry merino.
- Synthetic base layers can go in the dryer on low.

## Fleece

Machine wash cold and tumble dry low. Fabric softener flattens the fibers and makes fleece less warm.

## Footwear

- Knock off mud and brush the boots after each trip. Rinse with clean water if needed.
- Take out the insoles and air dry the boots at room temperature. Heat from radiators or campfires cracks leather and weakens glue.
- Treat leather with a wax conditioner a few times a season, and fabric boots with a spray-on water repellent.

## Tents

- **Never pack a tent away wet** for more than a day. Mildew damages coatings and isn't covered by our warranty.
- Pitch the tent at home to dry it completely before storing it loosely in a cool, dry place.
- Clean with a sponge and plain water. Never machine wash a tent, fly or footprint.
- Keep tents out of strong sun when you're not using them: UV weakens fabrics over time.

## Sleeping pads

Store air pads unrolled with the valve open, for example under a bed. Use the pump sack rather than your breath when you can, so moisture doesn't build up inside.

## Stoves and water filters

- Keep stove jets clean and check O-rings before each trip.
- Backflush water filters after each trip and let them dry before storing them.
- **A filter that has frozen while wet may be damaged and should be replaced.** In cold weather, sleep with it in your sleeping bag.

## Care and the warranty

Damage caused by improper care, such as using fabric softener on down or storing a tent wet, isn't covered by our Warranty Policy. If you're not sure how to care for an item, ask us at {s.support_email}.
"""
    return docs


def faq_entries(shop) -> list[tuple[str, str]]:
    """(question, answer) pairs for the FAQ page, in the order they appear."""
    s = shop
    standard, expedited, overnight = s.us_rates
    summit, peak = s.tiers[1].name, s.tiers[2].name
    return [
        ("How do I contact customer support?",
         f"Chat with us on any page of {s.domain}, email {s.support_email} or call {s.phone}. "
         f"We answer emails within 1 business day."),
        ("What are your customer support hours?",
         f"Our support team is available {s.hours_weekday}, and {s.hours_weekend}. "
         "Our virtual assistant answers chat questions at any time."),
        ("Am I chatting with a real person?",
         "The chat starts with our virtual assistant, which answers from our policies, product "
         "information and your own orders. Ask for a person at any time and a member of our "
         "support team will pick up the conversation during support hours."),
        ("Do you have a physical store?",
         f"No. {s.name} is an online-only shop. Our warehouse in {s.city} doesn't have a "
         "showroom and we can't offer collection from it."),
        ("Where are you based?",
         f"We're based in {s.city}, where we've designed and tested outdoor gear since "
         f"{s.founded_year}. Every order ships from our warehouse there."),
        ("What is your return policy?",
         f"You can return unworn, unwashed items with their tags attached within {s.return_days} "
         f"days of delivery. Start at {s.domain}/returns. A {money(s.return_label_fee)} label fee "
         "is deducted from your refund unless you're a "
         f"{summit} or {peak} member or the item was faulty."),
        ("Can I return boots I've worn outside?",
         "No. Footwear can only be returned if it has been tried on indoors. If worn boots have a "
         "defect, such as a sole coming away, they're covered by our 1-year footwear warranty."),
        ("How long do refunds take?",
         f"We issue your refund within {s.inspection_days} business days of your return arriving. "
         "Card refunds then take 5–10 business days to appear and PayPal refunds 3–5 business days."),
        ("How do I exchange an item for a different size?",
         f"Start an exchange at {s.domain}/returns within {s.return_days} days of delivery. "
         "Exchanges within the US are free both ways, and we ship the new size as soon as the "
         "carrier scans your return."),
        ("How much does shipping cost?",
         f"Within the lower 48 states, Standard shipping costs {money(standard.lower48)} and is "
         f"free on orders of {money(s.free_shipping_threshold)} or more. Expedited costs "
         f"{money(expedited.lower48)} and Overnight {money(overnight.lower48)}."),
        ("Do you ship on weekends?",
         "Our warehouse ships Monday to Friday. Orders placed on a weekend are processed on "
         "the next business day."),
        ("Which carriers do you use?",
         "Within the US we ship with USPS, UPS and FedEx, depending on the shipping method. "
         "International orders ship with DHL."),
        ("How can I track my order?",
         "We email you a tracking number as soon as your order ships. You can also see the status "
         "under Account > Orders, or ask our chat assistant while signed in."),
        ("What does it mean when my order says \"delayed\"?",
         "Your parcel has missed its estimated delivery date but is still on its way, usually "
         "because of weather, a carrier backlog or customs. If it's more than 5 business days "
         "late, contact us and we'll open a trace."),
        ("Do you ship internationally?",
         f"Yes, to {sum(len(z.countries) for z in s.intl_zones)} countries in Canada, Europe and "
         "Asia-Pacific, by DHL. Duties and taxes are collected by DHL on delivery. International "
         f"Standard is free on orders of {money(s.intl_free_threshold)} or more."),
        ("Can I change or cancel my order?",
         f"Yes, for {s.change_window_minutes} minutes after ordering, under Account > Orders > "
         "Edit order. After that, contact us quickly and we'll try; once it has shipped, you can "
         "return it instead."),
        ("Can I ship to a PO Box?",
         "Yes, by Standard shipping with USPS. Expedited and Overnight orders need a street "
         "address, and international orders can't go to PO Boxes."),
        ("Do I need an account to place an order?",
         "No, you can check out as a guest. You need an account to earn Ridgeline Rewards points, "
         "but you can add a guest order to your account within 30 days."),
        ("How do I reset my password?",
         "Choose \"Forgot password?\" on the sign-in page and we'll email you a reset link that "
         "works for 1 hour. If the email doesn't arrive, check your spam folder."),
        ("How do I change the email address on my account?",
         "Go to Account > Profile > Email, enter the new address and confirm it with the link we "
         "send there. Your orders and points move with you."),
        ("How do I find my size?",
         "Every product page has a size chart with body measurements in inches and centimeters. "
         "Our apparel runs true to size; if you're between sizes in a rain shell, size up so it "
         "fits over a fleece."),
        ("Do your hiking boots need breaking in?",
         "Leather boots such as the Granite Peak need about 20–30 miles of easy walking to break "
         "in. Our fabric boots and trail runners are comfortable out of the box."),
        ("How do I choose a sleeping bag temperature rating?",
         "Our ratings are the ISO 23537 lower limit: the temperature at which a typical sleeper "
         "stays warm curled up. Choose a bag rated about 10°F below the coldest night you expect."),
        ("Is your down responsibly sourced?",
         "Yes. All the down in our jackets, vests and sleeping bags is certified to the "
         "Responsible Down Standard (RDS)."),
        ("Will an out-of-stock item come back?",
         "Most core colors and sizes are restocked. Choose \"Notify me\" on the product page and "
         "we'll email you once it's back; we can't give exact restock dates."),
        ("Do you offer gift wrapping?",
         f"Yes. Choose gift wrapping at checkout for {money(s.gift_wrap_fee)} per order. We wrap "
         "your items in recycled paper and add a handwritten note. Gift wrapping isn't available "
         "on international orders."),
        ("Can I include a gift receipt?",
         "Yes. Tick \"This is a gift\" at checkout and your packing slip won't show prices. "
         "The person receiving the gift can use the order number to exchange it."),
        ("How do I use a promo code?",
         "Enter it in the \"Promo code\" box in your cart before checkout. Only one promo code "
         "can be used per order, but you can use Ridgeline Rewards rewards alongside it."),
        ("How do Ridgeline Rewards points work?",
         f"You earn points for every $1 you spend (more in higher tiers), and every "
         f"{s.points_per_reward} points is worth {money(s.reward_value)} off. Points expire "
         f"{s.points_expiry_months} months after you earn them."),
        ("Do you price match?",
         "No. Most of our gear is designed by us and sold only on our own site, so we don't match "
         f"other retailers. If we lower our own price within {s.price_adjustment_days} days of "
         "your order, we refund the difference."),
        ("What payment methods do you accept?",
         "Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Google Pay, our gift "
         "cards and Klarna Pay in 4."),
        ("When will my card be charged?",
         "We authorize your card when you order and charge it when your order ships."),
        ("Can I pay in installments?",
         f"Yes, with Klarna Pay in 4: four interest-free payments every 2 weeks, for orders from "
         f"{money(s.klarna_min)} to {money(s.klarna_max)} with a US billing address."),
        ("Do gift cards expire?",
         "No. Our gift cards never expire and have no fees."),
        ("Is there a student or military discount?",
         f"Yes: {s.student_discount_pct}% off full-price items for verified students, military "
         f"members, veterans and first responders in the US. Verify at {s.domain}/verify."),
        ("What does the warranty cover?",
         "Defects in materials and workmanship: lifetime for backpacks, tents and sleeping bags, "
         "2 years for apparel and accessories, and 1 year for footwear, camp kitchen gear and "
         "headlamps. Normal wear and accidents aren't covered."),
        ("Can you repair my jacket?",
         "Yes. Our repair team fixes our own gear, for free under warranty or at fixed prices "
         "otherwise, for example $15 for a new zipper slider. Most repairs take 3–4 weeks."),
        ("Do you sell replacement parts?",
         "We sell replacement tent poles, pack buckles and stuff sacks for current products. "
         f"Email {s.support_email} with the product name and the part you need."),
        ("Can I order by phone?",
         f"Yes. Call {s.phone} during support hours and our team can place an order for you, "
         "with the same prices and shipping rates as the website."),
        ("Can I get an invoice for my order?",
         "Yes. Download a PDF invoice from Account > Orders, or ask us to email one to you. "
         "Guest shoppers can find it through the link in the confirmation email."),
        ("How do I unsubscribe from marketing emails?",
         "Click \"Unsubscribe\" at the bottom of any marketing email, or turn emails off under "
         "Account > Preferences. Order and shipping emails still arrive."),
        ("How do I delete my account?",
         f"Use Account > Privacy > Delete my account, or email {s.privacy_email}. We delete your "
         "profile within 30 days but keep order records for 7 years, as tax law requires."),
    ]


def faq_markdown(shop) -> str:
    """The FAQ page: one H1, then one H2 per question followed by its answer."""
    parts = ["# Frequently Asked Questions", ""]
    for question, answer in faq_entries(shop):
        parts += [f"## {question}", "", answer, ""]
    return "\n".join(parts)
