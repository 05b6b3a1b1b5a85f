"""Build the v1 part of the labeled shopper-message set for churn-risk scoring.

messages.jsonl is built by build_messages.py, which takes v1 from this file and adds the v2
lines of written/*.txt; run that. This file alone writes only the v1 part:

    python evals/data/risk/make_messages.py --out /tmp/v1.jsonl [--stats]

Every message starts life as a hand-written base message in one of the labeled
blocks below. A block fixes the three labels (sentiment, churn_intent, at_risk)
for every line in it, so labels are decided once per message by a person and
never by a heuristic. A line may end in ``##tag tag`` to declare the tags that
need a human judgement (sarcasm, negation, mixed, typo, question, polite_angry,
chargeback); the surface tags (short, long, caps, emoji, competitor) are
computed from the final text.

Variants are label-preserving: re-filled placeholders ({order}, {carrier},
{comp}, product names), lowercasing, dropped apostrophes, a seeded keyboard
typo, a greeting. Every variant keeps the base id in ``base`` so the
train/test split can keep a base message and all its variants together.
The output is deterministic for a given SEED.
"""
import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

SEED = 1042
TEST_FRACTION = 0.25
OUT = Path(__file__).with_name("messages.jsonl")

# ---------------------------------------------------------------- fill-ins
# Product names are illustrative Ridgeline Outfitters items; the classifier
# must not depend on them, which is why they rotate across variants.
POOLS = {
    "jacket": ["Trailhead rain jacket", "Summit down parka", "Ridgeline softshell",
               "Cascade insulated jacket", "Trailhead jacket", "Storm Shell jacket"],
    "fleece": ["Basecamp fleece", "Timberline fleece hoodie", "Ember grid fleece",
               "Basecamp quarter-zip fleece"],
    "base": ["Merino 150 crew", "Merino 250 zip-neck", "thermal base layer leggings",
             "Merino 200 hoodie"],
    "pants": ["Switchback hiking pants", "Scree convertible pants", "Traverse rain pants",
              "Talus softshell pants"],
    "boots": ["Talus mid hiking boots", "Granite trail runners", "Ridgeline approach shoes",
              "Frostline winter boots", "Talus boots"],
    "pack": ["Ascent 45L backpack", "Daybreak 22L daypack", "Traverse 65L pack",
             "Ascent 38L pack"],
    "tent": ["Alpine 2 tent", "Meadow 4 tent", "Solo Bivy tent", "Alpine 3 tent"],
    "bag": ["Nightfall 20 sleeping bag", "Ember 0 down bag", "Summer 40 quilt",
            "Nightfall 30 sleeping bag"],
    "cook": ["Trail stove", "titanium cook set", "camp kettle", "Trail stove kit"],
    "acc": ["merino beanie", "trek poles", "Headlamp 300", "wool hiking socks",
            "insulated gloves", "trucker cap"],
}
POOLS["product"] = [p for k in ("jacket", "fleece", "pants", "boots", "pack", "tent", "bag")
                    for p in POOLS[k]]
POOLS["carrier"] = ["UPS", "USPS", "FedEx", "DHL"]
POOLS["comp"] = ["REI", "Backcountry", "Patagonia", "Amazon", "Moosejaw", "Decathlon", "evo"]
COMPETITORS = POOLS["comp"]

# ---------------------------------------------------------------- base messages
# BLOCKS: (name, sentiment, churn_intent, at_risk, default tags, text).
# One message per line; blank lines are ignored.
BLOCKS = []


def block(name, sentiment, churn, at_risk, tags, text):
    BLOCKS.append((name, sentiment, churn, at_risk, tags, text))

# ---- neutral, not at risk: plain information questions (the bulk of traffic)
block("neutral_question_shipping", "neutral", False, False, ["question"], """
How long does shipping usually take to Colorado?
Do you ship to Canada?
Which carrier do you use for orders going to Alaska?
is shipping free over a certain amount? ##typo
How much is express shipping?
If I order today can I have it by Friday?
Do you ship to PO boxes?
do you deliver to APO/FPO addresses ##typo
What's the cutoff time for same-day dispatch?
If I order two things will they ship together or separately?
Can I change the shipping address on {order}? It hasn't shipped yet.
I typed the wrong apartment number on {order}, can you fix it before it goes out?
Where is my order {order}?
Any update on {order}?
The tracking for {order} hasn't updated since yesterday, is that normal?
Has {order} shipped yet?
Which carrier is my order {order} with?
Can I pick up my order somewhere instead of having it shipped?
Can I upgrade to express shipping after I've already placed the order?
what does "label created" mean on my tracking ##typo
{carrier} says in transit for {order}, roughly how many more days?
Do you ship on weekends?
Is there a way to ship one order to two different addresses?
Do you ship to the UK?
Will I have to pay customs fees if I order from Germany?
Can I ship a gift straight to my brother with a note?
For gift orders, is the price printed on the packing slip? I don't want him to see it.
Can I pick a delivery date?
Does delivery need a signature?
Could you send my order with {carrier} instead? They're more reliable in my area.
The tracking number for {order} doesn't work on the {carrier} site yet. When should it start working?
Where do I find my tracking number?
If one item is backordered, does the rest of the order ship first?
Is free shipping available to Hawaii?
Do tents ship in the original box or in plain packaging?
Can you ship fuel canisters with the stove?
How long is your handling time before an order leaves the warehouse?
do you ship to puerto rico ##typo
Is Saturday delivery an option?
How do I get delivery updates by text?
Are orders shipped from one warehouse or several?
I'm going to be away next week, can you hold {order} until the 20th?
Can I add gift wrap to an order that's already placed?
Is there a cheaper shipping option than standard?
How do I know if my address is in the express delivery zone?
What's the shipping cost to Ontario?
whats the difference between standard and economy shipping ##typo
Do you ship internationally with {carrier}?
My tracking says out for delivery, roughly what time do they usually come?
Does standard shipping include weekends in the estimate?
""")

block("neutral_question_orders", "neutral", False, False, ["question"], """
Has my order {order} been processed yet?
I got an email saying {order} was split into two shipments. Why is that?
I placed an order about an hour ago and didn't get a confirmation email. Did it go through?
My order page says "pending", what does that mean?
Can you resend the confirmation email for {order}?
How do I check my order status if I checked out as a guest?
Is it possible to add another item to {order} before it ships?
Can I cancel order {order}? I picked the wrong color.
Please cancel order {order}, I accidentally ordered it twice.
I need to cancel {order} before it ships, I ordered the wrong size.
How do I cancel an order?
Can I change the size on {order}? It hasn't shipped yet.
Did my payment for {order} go through?
What's the estimated delivery date for {order}?
will {order} arrive before the 15th? leaving for a trip ##typo
Tracking for {order} says delivered to the mailroom. If it's not there, who do I contact?
Can I swap the color on {order} before it ships?
How long after ordering can I still make changes?
Can I combine two orders so they ship together?
I ordered the {jacket} and the {fleece} separately, can they ship in one box?
My order number is {order}, can you tell me when it'll ship?
How will I know when {order} ships?
Is there a way to see which items in {order} have shipped?
Can you split {order} so the in-stock items ship now?
What happens if nobody is home when {carrier} delivers?
Do I get an email when my order is out for delivery?
order {order} status pls ##typo
Can I change the payment method on an order I already placed?
Can I remove the {acc} from {order}? Don't need it anymore.
If I cancel one item will the shipping cost change?
""")

block("neutral_question_returns", "neutral", False, False, ["question"], """
What's your return policy?
How many days do I have to return something?
Can I return boots I've worn outside once?
can i return worn boots ##typo
Do I need the original box to return shoes?
Is return shipping free?
How do I print a return label?
Can I exchange my jacket for a different size?
How long do refunds take once you get the return?
Can I return a sale item?
I set the {tent} up once in my backyard to try it. Can I still return it?
Do you take returns without a receipt?
I got one of your jackets as a gift. Can I exchange it?
If I return something I paid for with a gift card, where does the refund go?
Can I drop my return off at {carrier}?
I lost the return label, can you send me another one?
Can I return just one item from {order}?
How do I exchange something for a different color?
Is there a restocking fee?
Do you do instant exchanges, or do I have to send the first one back before you ship the new size?
Can I return a sleeping bag that's been used on one trip?
What condition do things need to be in to return them?
Can final sale items be returned?
I dropped off my return yesterday. When will I see the refund?
Can I send my return back in a different box?
How do I know you received my return?
Can I return socks if I opened the package?
The return window says 60 days. Is that from the order date or the delivery date?
Do you refund the original shipping cost?
Can I get store credit instead of a refund for the {pack}?
Can I return something bought in the holiday sale after January?
How do I start a return for {order}?
Do I have to include the packing slip in my return?
Is the return label prepaid?
Can I return items from two different orders in one box?
Do returns have to be in the original packaging?
If I exchange for a more expensive size do I pay the difference?
Can I return the {boots} if I only wore them around the house?
Can I exchange the {pants} for a tall length?
do you accept returns from outside the US ##typo
Can my partner return something I bought on my account?
Can I return a tent if the footprint was opened?
How long is the exchange process usually?
Is it possible to exchange for a different product instead of a refund?
When does the refund show up if I paid with PayPal?
""")
block("neutral_question_sizing", "neutral", False, False, ["question"], """
Does the {jacket} run true to size?
I'm 5'10" and about 170 lbs, should I get a medium or a large in the {fleece}?
Are the {boots} OK for wide feet?
Do your boots come in half sizes?
What's the inseam on the {pants}?
Does the {jacket} come in XL?
Does the Trailhead jacket come in XXL?
Are women's base layer sizes cut differently from men's?
should i size up in the {boots} for thick socks ##typo
Is there a size chart for kids?
How long are the sleeves on a large {fleece}?
Is the {base} snug or more of a relaxed fit?
What torso length does the {pack} fit?
I wear a 10.5 in Merrells, what size should I get in your hiking boots?
Are your shoe sizes US or EU?
Will the {jacket} fit over a thick fleece?
Do the {pants} shrink in the wash?
What's the difference between regular and tall sizes?
Is the regular {bag} long enough for someone who's 6'3"?
Do you make petite lengths in the hiking pants?
How much room is there in the toe box of the {boots}?
I'm between sizes on your chart, should I size up or down?
What size is the model wearing in the {fleece} photos?
Will a small base layer fit a 34 inch chest?
Does the {jacket} have room for layering underneath?
My son is 11 and about 4'9", what kids size would fit?
Do the trail runners fit narrow?
What's the waist measurement on a size 32 {pants}?
Is the {base} long enough to tuck in?
Do the gloves come in XS?
are the womens boots true to size or do they run big ##typo
Would you recommend a medium or large for a 42" chest in the {jacket}?
Is the hood adjustable on the {jacket}?
Do the {pants} come in a 30 inch inseam?
How do I measure my foot for your size chart?
Does the {pack} come in a women's fit?
Are the sleeping bags sized by height?
Does a medium {fleece} fit more like a large in other brands?
Is the beanie one size fits all?
hi quick one, does the {base} come in a long length ##typo
""")

block("neutral_question_stock", "neutral", False, False, ["question"], """
Is the {jacket} in stock in medium?
When will the {boots} be back in size 9?
Do you have the {fleece} in green?
Can you let me know when the {tent} is back in stock?
Are the colors on the website accurate? The navy looks almost black on my screen.
Is the sale price on the {bag} going to last through the weekend?
Will you restock the orange {jacket}?
Does the {pack} come in other colors?
Is the {product} sold out for good or just temporarily?
Can I preorder the {tent}?
Are you discontinuing the {pants}?
Does the {product} come in women's sizes?
Do you carry replacement poles for the {tent}?
Do you sell gift cards?
Do you sell kids' rain jackets?
Do you have any fleece in plus sizes?
Is the red {fleece} coming back this winter?
Do you have a waitlist for the {boots}?
Does the {cook} come with a stove or is that separate?
Do you sell the stuff sack for the {bag} separately?
Will the new colors of the {jacket} be released soon?
Are you going to carry ski pants this season?
Is the camo {pack} a limited edition?
Do you sell replacement laces for the {boots}?
Do you stock trekking pole tips?
""")

block("neutral_question_product", "neutral", False, False, ["question"], """
Is the {jacket} fully waterproof or just water resistant?
What's the fill power of the {bag}?
What's the temperature rating on the {bag}?
How much does the {tent} weigh packed?
Is the {tent} freestanding?
Will a 3L hydration bladder fit in the {pack}?
Does the {pack} come with a rain cover?
Is the {base} merino or synthetic?
Will the merino shirt itch? I have pretty sensitive skin.
Can I machine wash the {bag}?
how do i wash a down jacket without ruining it ##typo
Does the {jacket} have pit zips?
Will the hood on the {jacket} fit over a climbing helmet?
Are the {boots} waterproof?
Are the {boots} good for winter hiking?
Are the {pants} stretchy enough for climbing?
What fuel does the {cook} use?
Is the titanium cook set dishwasher safe?
How many people actually fit in the {tent}?
Can the {tent} handle snow?
Does the {fleece} pill?
Does the {jacket} pack into its own pocket?
What's the difference between the Trailhead and the Cascade jackets?
Is your down responsibly sourced?
Is the {jacket} PFAS-free?
What's the warranty on the {pack}?
Do the trek poles collapse small enough for carry-on luggage?
How bright is the headlamp, and is it rechargeable?
Are the wool socks OK for running?
Would the {bag} be warm enough for camping in Vermont in October?
Is the Meadow 4 tall enough to stand up in?
Do the {pants} zip off into shorts?
Do the boots need breaking in?
Is the {jacket} warm enough for skiing?
How much water does the camp kettle hold?
Do the trail runners grip well on wet rock?
Is the {pack} carry-on size?
Does the {bag} have a left or right zip?
Can two of the Nightfall bags zip together?
Is the {base} OK to wear for several days without washing?
What's the packed size of the {bag}?
Does the {jacket} have a two-way front zipper?
Is the headlamp waterproof?
What's the denier of the {tent} floor?
Do I need a footprint for the {tent}?
How do I re-waterproof my {jacket}?
Is the {fleece} windproof at all?
Can the stove simmer or is it full blast only?
Are the gloves touchscreen compatible?
Do your boots have Vibram soles?
Is there a chest strap whistle on the {pack}?
What's the difference between the 20 and 30 degree Nightfall bags?
Can I put the {pants} in the dryer?
Is the {jacket} breathable enough for running?
How many liters is the Daybreak daypack really, does that include the side pockets?
Are the tent stakes aluminum or steel?
What's the heel-to-toe drop on the {boots}?
can the kettle go on an open fire ##typo
Is the {jacket} insulated or just a shell?
Does the {pack} have a laptop sleeve?
""")
block("neutral_question_money", "neutral", False, False, ["question"], """
Do you have a student discount?
Is there a military discount?
Do you have a first-order discount?
When is your next sale?
Do you do Black Friday deals?
Can I use two promo codes on one order?
Do I get a discount for signing up to the newsletter?
Is there a discount for buying in bulk? It's for a scout troop.
Do you price match?
I bought the {fleece} last week at full price and now it's on sale. Can I get the difference back?
Does the promo code work on sale items?
Where do I enter a promo code on the app?
Do you have a referral program?
Is there a discount for teachers or nurses?
Do gift cards expire?
How do loyalty points work?
How many points do I have?
Do my points expire?
Can I use points on sale items?
How much is one point worth?
When do I get the points for {order}?
I forgot to enter my loyalty number on {order}. Can you add the points?
What are the loyalty tiers?
Do I earn points on shipping costs?
Can I transfer points to my wife's account?
If I return something do you take the points back?
How do I redeem my points at checkout?
Do I get bonus points on my birthday?
Do you take PayPal?
Can I pay with Apple Pay?
Do you offer Klarna or Afterpay?
Is my card charged when I order or when it ships?
Why is there a pending authorization on my card that's different from my order total?
Can I split a payment between a gift card and a credit card?
Do you charge sales tax in Oregon?
Do you accept international cards?
Can I get a VAT invoice for {order}? It's for my company.
How do I check my gift card balance?
Can I pay in Canadian dollars?
Are your prices in USD?
Is there an expiry on store credit?
Do you accept Venmo?
Can I use a promo code after I've placed the order?
What's the minimum order for free shipping?
Does the 15% welcome code work on the {tent}?
is there a code for free shipping ##typo
do you have gift cards in $25 amounts ##typo
""")

block("neutral_question_account", "neutral", False, False, ["question"], """
How do I reset my password?
How do I change the email on my account?
Can I check out as a guest?
How do I update my shipping address?
How do I delete a saved card?
I'm not getting the password reset email, what should I do?
How do I unsubscribe from the marketing emails?
Can I merge two accounts? I accidentally made a second one.
Where can I see my past orders?
How do I change the phone number for text updates?
Do I need an account to make a return?
How do I turn off text notifications?
Is my card info stored securely?
Can I share my wishlist with someone?
How do I change my username?
Can I add a second shipping address to my account?
Why does the site ask me to verify my email again?
Is there a Ridgeline app for Android?
How do I set my default size in my profile?
Can I log in with Google?
how do i change my password ##typo
How do I update the billing address on my card?
""")

block("neutral_question_warranty_misc", "neutral", False, False, ["question"], """
What does your warranty cover?
How do I start a warranty claim?
Do you repair jackets?
Is the lifetime warranty actually lifetime?
Do I need proof of purchase for a warranty claim?
Do you sell replacement buckles for the {pack}?
How long does a warranty repair usually take?
Does the warranty transfer if I bought it secondhand?
Does the warranty cover zippers?
Can I send in my {jacket} for a seam-tape repair?
Do you ship to Australia?
Will I be charged duties on an order to Canada?
Do you have a European site?
Can I order from Mexico?
What are your customer service hours?
Can I talk to a person?
Is this a bot or a real person?
Do you have a phone number I can call?
Are you hiring for the holidays?
Do you have an affiliate program?
Do you sponsor trail races?
Where are your products made?
Do you still send a paper catalog?
How do I leave a review for a product?
Do you offer gift wrapping?
Do you rent gear?
Do you have a physical store?
Do you have a pro deal program for guides?
Can I get a copy of my receipt for {order}?
Are your products vegan?
How do I recycle old gear with you?
Do you donate to trail conservation?
Is the {tent} OK for a music festival?
What size fuel canister fits in the {cook}?
Is it ok to store a down bag compressed?
can i talk to a real person pls ##typo
Do you do corporate orders with logos?
Is there a way to reach customer service by email?
We're doing a three-night trip in the Smokies next month with two kids, 7 and 10. Right now we have an old 4-person tent that leaks. Would the Meadow 4 fit two adults and two kids plus some gear, or should we get something bigger?
I'm heading to Iceland in September and will be hiking most days. I run cold and hate being wet. Would you recommend the rain jacket with a fleece underneath, or the insulated jacket? Also, do the {pants} work as rain pants?
My partner and I both bought the {boots} last year. Mine are still perfect but his are wearing through at the heel. He walks a lot on pavement. Is that expected, and would the warranty cover it?
I ordered a medium {fleece} last month and it fits well, though the sleeves are a little long. I'm thinking of ordering the {jacket} too. Should I stick with a medium there or go down to a small since it's cut roomier?
I'm buying a gift for my dad, who's getting into backpacking. He's about six feet tall and mostly does summer trips in the Rockies. Which sleeping bag would you suggest, and can I include a gift receipt?
Our scout troop needs 12 of the same daypack for a fall trip. We'd like them all in the same color. Is there a bulk discount, and how long would shipping take for that many?
I live in an apartment building with a shared mailroom. Packages sometimes go missing there. Is there a way to ship to a {carrier} pickup point instead of my address?
I'm training for my first thru-hike next spring. I've been looking at the {pack} and the Traverse 65L. My base weight is around 18 lbs. Which one would you recommend?
""")

# ---- neutral, not at risk: hard cases that look risky but are not
block("neutral_hard_not_risk", "neutral", False, False, [], """
Do you price match {comp}? ##question
I saw the {boots} at {comp} for less, do you price match? ##question
Is this the same jacket {comp} sells under another name? ##question
Do you have anything like the Patagonia Nano Puff? ##question
How does the {jacket} compare to the Patagonia Torrentshell? ##question
I usually buy from REI, is your return policy similar? ##question
My friend said Backcountry has the same tent. Is yours the newer version? ##question
Not going anywhere, just asking: do you have a loyalty program? ##negation question
I'm not upset or anything, just want to know when {order} will ship. ##negation question
Not complaining, just curious why shipping to Alaska costs more. ##negation question
I'm not trying to return it, I just want to know how to wash it. ##negation question
I don't want to cancel, I just need to change the address on {order}. ##negation question
Not a complaint, but is there a way to get fewer emails? ##negation question
I accidentally opened a dispute with my bank for {order}. How do I undo it? ##chargeback question
My bank flagged your charge as possible fraud. Can you confirm the exact amount so I can approve it? ##chargeback question
Please cancel {order}, I ordered the same thing twice.
cancel my order pls, wrong size ##typo
How do I cancel my newsletter subscription? ##question
Can I pay with an Amazon gift card? ##question
Do you sell on Amazon too? ##question
Is the {tent} cheaper on your site or on Amazon? ##question
Does your sizing match Patagonia? I'm a medium there. ##question
I bought one of your jackets at evo. Is the warranty handled by you or by them? ##question
Is this an AI? Don't mind either way, just curious. ##question
Can I speak to a person about a bulk order? ##question
No rush at all, but could you check on {order} when you get a chance? ##negation question
I don't need a refund, just a replacement strap for the {pack}. ##negation
I'm not returning it, I'm keeping it, just wondering if you sell the matching pants. ##negation question
Nothing's wrong with the order, I just want to add a gift note. ##negation
I won't be home Thursday, can {carrier} leave it at the door? ##question
Decathlon has a cheaper tent but I like yours. Is the Alpine 2 worth the extra? ##question
I cancelled my credit card, how do I update it for my saved payment? ##question
Can you close my old duplicate account and keep the main one? ##question
I need to cancel and reorder {order} with my new address, what's the easiest way? ##question
I'm comparing your {bag} with one from Moosejaw. Which is warmer? ##question
How long does a chargeback take to show up? I'm asking for a class project on ecommerce. ##chargeback question
Is the refund for my return going to be a dispute credit or a normal refund on my statement? ##question
I'm leaving for a trip tomorrow, will my refund still go through if my card is frozen? ##question
Delete the old address from my account please, I moved.
Please remove my phone number from the text alerts list.
""")

# ---- neutral, not at risk: conversational fragments and statements
block("neutral_statement", "neutral", False, False, [], """
ok
{order}
my order number is {order}
it's {order}
yes
no that's all
size 10
medium
I'll wait for the tracking then.
let me check and get back to you
sure
got it
one sec
I ordered it on Tuesday.
the blue one
I'm in Denver.
hello
hi there
the {jacket} in large
ok I'll try that
nope
never mind, found it
checking my email now
The email on the order is the same as my account.
I used PayPal.
It was delivered to my office address.
I'll drop the return off tomorrow.
Just placed the order.
I went with the medium.
ok so I just wait then
Still deciding between the two tents.
I'll measure and come back.
the order was under my husband's name
It's for a gift.
Zip code is 80302.
hmm ok
right
Ordered the {boots} in a 9.
I sent the photos by email.
my tracking number starts with 1Z
Shipping to Seattle.
I'm asking for my dad.
it was the {pack}
I'll think about it.
""")
# ---- neutral wording, but the shopper is leaving: churn_intent and at_risk
block("neutral_churn", "neutral", True, True, [], """
Please close my account.
Please delete my account and all my data.
How do I close my account?
I'd like to leave the loyalty program and close my account.
Can you remove my card and close the account? I won't be ordering anymore.
I'm moving my gear shopping to {comp}. Can you delete my profile?
Please unsubscribe me from everything and close my account, thanks.
I'd like to return everything from {order} and close the account after that.
Can I get a refund on everything in {order}? I've decided to buy from {comp} instead.
I've decided to stop ordering from you. What happens to my remaining points?
What's the quickest way to get a refund? I'm taking my business elsewhere.
Hi, I'd like to deactivate my Ridgeline account please.
Found a better deal at {comp}, so please cancel {order} and close my account.
Please cancel my account, I no longer want to shop here.
close account pls ##typo
delete my account
I don't think I'll be ordering again. How do I remove my saved addresses and card?
How do I permanently delete my account under the privacy law? I'm done using the site.
I'll be using {comp} from now on, please cancel my pending orders.
Just letting you know I'm switching to {comp} for my gear. Please close my account.
Can you cancel my rewards membership? I won't be back.
I'd like my account closed. No need to follow up.
How do I opt out of everything and delete my order history? I'm moving on.
Not angry, just done. Please close my account. ##negation
No hard feelings, but I'm going to shop at {comp} from now on. Can you cancel {order}? ##negation
I'm not upset, {comp} just suits me better. Please remove my payment info and close the account. ##negation
Please refund {order}, I'll be buying from {comp} going forward.
How do I dispute a charge from you with my bank? ##chargeback
What information does my bank need from me to dispute {order}? ##chargeback
going to shop elsewhere from now on, pls delete my account ##typo
Can you delete my account? REI has everything I need closer to home.
Kindly close my account effective today.
Please stop all emails and close my customer account, I won't be ordering again.
cancel my account
how do i delete my account permanently ##typo
{comp} has the {boots} for $25 less. Match it or I'm ordering there.
Give me a discount code or I'll just buy it on {comp}.
If you can't do free shipping I'll just get it from {comp}.
I'll be taking my remaining returns back and shopping locally from now on.
Can you tell me how to transfer my points to someone else? I'm closing my account.
This will be my last order, please confirm the refund for {order} when it's processed.
Please remove me from your customer list entirely.
""")

# ---- neutral wording, at risk without churn: quiet escalation (complaints, legal)
block("neutral_at_risk", "neutral", False, True, [], """
Who do I send a formal complaint to?
What's the email address for your CEO?
Can I have the contact details for your legal department?
What's your company's registered address? I'll need it for small claims court.
I'd like a written record of every contact about {order}, please.
What's the process to escalate a complaint above customer service?
Do you have a complaints department?
Could you give me a reference number for this complaint? I'll be contacting consumer protection.
Is there someone other than the chatbot I can report this to?
Please note that I'm keeping copies of all of these messages.
I'll be forwarding this conversation to my lawyer.
Which regulator are you registered with?
""")
# ---- positive, not at risk
block("positive", "positive", False, False, [], """
thanks!
ok thanks
thank you so much!
perfect, thanks
great, thanks for the help
ty
awesome 👍
you guys are the best
Love the {jacket}, wore it all weekend in the rain and stayed completely dry.
The {boots} needed zero break-in. Super comfy right out of the box.
Just wanted to say the {tent} held up great in a storm last weekend.
Got my order a day early, thank you!
Fast shipping and nice packaging, thanks.
Your team sorted my exchange so quickly, really appreciate it.
This bot actually answered my question, nice.
That was easy, thanks!
The refund came through, thanks for the quick turnaround.
{order} arrived today and everything looks great.
Love my new {fleece}, I'm ordering another color.
Really happy with the {pack}. Took it on a 5-day trip with no issues.
10/10 would buy again
Best rain jacket I've ever owned.
The sizing advice was spot on, the medium fits perfectly.
Thanks for the handwritten note in the box, made my day.
Appreciate the help!
wow that was fast
You saved my trip, the express shipping got here just in time.
I've been a customer for years and you never disappoint.
The merino base layer is the comfiest thing I own.
My kids love their new rain jackets.
Great customer service as always.
Thanks, that's exactly what I needed to know.
The warranty process was painless and the new zipper works great.
Tested the {bag} at 25 degrees and was toasty all night.
the stove boils water crazy fast, love it ##typo
So glad I switched from {comp}, your gear is way better.
Way easier return process than {comp}, thank you.
Honestly cheaper and faster than Amazon.
Not unhappy with it at all, the {jacket} is great. ##negation
can't complain, everything arrived on time ##negation
Not bad at all! The fit is better than I expected. ##negation
No complaints here, the boots are perfect. ##negation
Wasn't expecting much from a chatbot but this was actually helpful. ##negation
Shipping took a bit longer than I hoped, but the {tent} is fantastic and worth the wait. ##mixed
The box was a little beat up but the {boots} are perfect, thanks! ##mixed
Had a hiccup with my first order but your team fixed it fast. I'm impressed. ##mixed
The app is a bit clunky but I love the gear. ##mixed
A little pricey, but the quality is worth it. ##mixed
thx so much ur the best ##typo
omg love it 😍
🙌🙌🙌
❤️ the new colors
thanks!! 😊
Amazing, thank you 🙏
perfect 👌
cheers!
legend, thanks
that worked, thank you
got it, thanks a lot!
you rock
Great, I'll place the order now.
Sounds good, I'll go ahead with the exchange.
just placed my third order this month lol, I'm hooked ##typo
Loving the loyalty points, just used them on socks.
Thank you for the birthday discount!
The {pants} are my go-to hiking pants now.
everything fits, thank you so much
Got the replacement, all good now. Thanks for sorting it.
The exchange was so smooth. I'll definitely shop again.
5 stars for your customer service
I've recommended you to my whole hiking club.
Super helpful, thanks for explaining the return window.
The headlamp is brilliant, the battery lasts forever.
You've got a customer for life.
The trek poles saved my knees on the descent, thanks for the recommendation.
Thank you for being patient with me, I'm not great with websites.
Best outdoor shop online, period.
The quality of the {fleece} is unreal for the price.
Love the {jacket}! Does it come in green too? ##question
Thanks to whoever packed my order, everything was perfect.
I was really nervous ordering boots online because I have wide feet and usually try on ten pairs before buying. Your size guide was spot on and the wide {boots} fit perfectly out of the box. Did 12 miles on Saturday with zero blisters. Thank you!
Last month a pole on my {tent} snapped on day two of a week-long trip. I emailed when I got home expecting a fight. You sent a replacement pole set in three days, no questions asked. That's how you keep a customer.
My daughter's first backpacking trip was this weekend. She wore the kids' rain jacket and the little fleece the whole time and didn't complain once, which is a miracle. Thanks for making decent kids' gear.
I ordered the wrong size twice, which is completely on me. Both exchanges were free and fast. Honestly the best return experience I've had anywhere.
Just back from the Colorado Trail. The {pack} carried 30 pounds for three weeks and my shoulders are fine. Hip belt is still like new. Thanks for building good stuff.
I had a question about the return window and expected to be stuck in a loop with a bot. Instead I got a clear answer in ten seconds and a return label in my inbox. Nice work.
Customer since 2016. Every order has been right. Figured you should hear the good stuff for once.
The {bag} packs down smaller than I thought.
Impressed with how fast the refund showed up.
The new website is way easier to use.
That's a relief, thanks for checking.
Oh nice, didn't know about the free exchanges!
This made my week, thank you.
Brilliant, exactly what I was after.
so happy with my order!!
The color is even nicer in person.
Thanks for the tip about washing the down jacket, it came out great.
You guys nailed the fit on the women's pants.
Ordered Monday, arrived Wednesday. Love it.
Great packaging, no plastic, love that.
Thanks for the quick reply!
The loyalty discount was a nice surprise.
I appreciate the honest answer about the temperature rating.
Thanks for the heads up about the delay, appreciate the communication.
The boots are worth every penny.
My husband loves the {jacket} I got him for his birthday.
The socks are so comfy I bought 6 more pairs.
ok great thank you
Awesome, that's super helpful.
Thanks! Have a good one.
Nice, the tracking just updated. Thanks!
Ah perfect, that answers it.
you've been really helpful today, thank you
The {tent} set up in five minutes, even in the dark.
Just wanted to say your gear got me up my first fourteener!
Lovely quality, fast shipping, zero issues.
Thank you for making the return so easy.
I'm impressed you answered on a Sunday.
Glad I found you guys.
Finally a rain jacket with sleeves long enough for me!
The chat was way faster than waiting on hold, thanks.
Yay it arrived!!
Great, that's sorted then.
perfect fit, thanks for the size help ##typo
the kettle is so cute and works great ##typo
really love the new {fleece} colors ##typo
Not what I expected, in a good way. The fabric is way softer than it looks online. ##negation
I'm not usually one to write in, but the {jacket} deserves a shout-out. ##negation
No issues at all with the order, thank you! ##negation
Can't believe how warm the {bag} is for the weight. ##negation
Thank you, I'll be back for the matching pants.
Had to return the first pair but the exchange was quick and the new ones fit great. ##mixed
The shipping estimate was off by a day but honestly everything else was perfect. ##mixed
Took a while to find the size chart on mobile but the fit was spot on. ##mixed
Wish there were more colors, but the {pants} are the best I've owned. ##mixed
The first bot answer missed the point but the second one nailed it, thanks. ##mixed
I was about to order from {comp} but your price was better and shipping faster. Thanks!
Switched from Patagonia to your fleece, honestly can't tell the difference for half the price.
Amazon had it cheaper but I'd rather support you guys.
👍
🙂 thanks
thank youuu ❤️
love this store 😊🏕️
🔥🔥 the new colorway
Got it! 🙌
woohoo it's here 🎉
Thank you for the fast answer 🙂
Yes! That's the one, thanks.
Lol you're quicker than my husband at answering texts. Thanks!
Happy customer here.
Much appreciated.
Thanks, you've been a huge help.
Sweet, thanks!
Everything came in perfect condition.
The boots fit like a glove.
Will definitely order again.
thanks a ton
great service
all good thanks
Thanks for getting back to me so fast, the size swap is perfect.
Just got the {fleece} and wow, the color is gorgeous.
My {boots} survived a muddy 20 miler and still look new. Impressed.
Used my loyalty points for the first time, so easy. Thank you!
Really appreciate you honoring the warranty on my old {pack}.
The {jacket} is the first rain shell that actually fits my shoulders. Thank you!
Great call on the 20 degree bag, slept like a baby at the lake.
Your packaging is always so neat, it feels like a gift every time.
Thanks for squeezing in the express upgrade, it arrived before our trip.
The refund was in my account the next day. That's seriously fast.
Love the new {pants}, wore them straight out of the box on a hike.
My wife stole my {fleece} so I need to order another one. Great problem to have.
Thanks for the reminder email about my expiring points, used them just in time.
The replacement buckle came in two days, thank you!
Okay, that's super clear. Thanks for your patience!
This is the third {tent} I've bought from you and they're all still going strong.
You answered in like 5 seconds, amazing.
The kids' boots are holding up great, even with my two destroying everything.
Absolutely love the quality of the stitching on the {pack}.
Wore the {base} for four days straight on the trail and it didn't smell. Magic.
Thanks for letting me know about the restock, just grabbed one!
Glad I asked, the medium was the right call.
Thanks so much for the gift wrap, my dad loved it.
Fantastic, the new tracking page is really handy.
I was skeptical about merino but I'm a convert now.
Everything was perfect this time, thank you for fixing the last order so quickly. ##mixed
The last order had a hiccup but this one was flawless. Nice work. ##mixed
Great answer, thank you! One more: does the {fleece} come in navy? ##question
Thanks! And is there free shipping on returns too? ##question
Love my {jacket}, wondering if you have matching {pants}? ##question
I'll be honest, I expected the bot to be useless, but you solved it in one go. ##negation
Not gonna lie, this is the best fleece I've owned. ##negation
No need for anything else, everything is perfect. Thanks! ##negation
I didn't think down could be this light. Love the {bag}. ##negation
nice one, ty ##typo
wow thx for the super quick refund ##typo
ur customer service is amazing honestly ##typo
love the jacket, fits perfect ##typo
Thank you!!! 🎉
That's awesome, thanks 😄
the tent is perfect 🏕️
Big thanks to the warehouse team 💪
Thank you, you made this super easy.
Appreciate it, have a great day!
Perfect, that's all I needed.
I had ordered the wrong size and was dreading the return. I typed my question here and had a label in a minute. The new size arrived three days later. Thank you for making it painless!
We took the Meadow 4 on our first family camping trip. It poured both nights and everyone stayed dry. The kids now want to go every weekend. Thank you!
I don't usually leave feedback. But the person who handled my warranty claim last week went above and beyond. Please pass on my thanks to them.
I was worried about buying a down jacket online. The size chart was accurate and the {jacket} fits perfectly over a fleece. It's the warmest thing I've ever owned.
""")
# ---- negative, not at risk: mild or matter-of-fact complaints asking for a normal fix
block("negative_mild", "negative", False, False, [], """
The zipper on my {jacket} broke. How do I use the warranty?
My order is a day late, any update?
{order} is a couple of days behind the estimate. Is it still on the way?
I got a medium instead of the large I ordered. How do I swap it?
The {boots} are a bit small. Can I exchange them for a half size up?
The box for {order} arrived crushed. The tent looks fine but one stake is bent, could you send a spare?
My promo code isn't working at checkout.
The website keeps logging me out when I try to check out.
I got charged shipping even though my order was over $75?
I ordered the grey fleece and got a blue one. How do I fix that?
One item from {order} is missing from the box.
The seam on my {pants} is coming apart after a month. Is that covered?
I'm not angry, just confused: why was I charged twice for {order}? ##negation
I sent a return two weeks ago and haven't seen the refund yet. Can you check?
Tracking for {order} hasn't updated in 3 days. Could you look into it?
My loyalty points from {order} haven't shown up.
A bit disappointed the {fleece} pilled after a few washes. Is that normal?
The sleeping bag zipper keeps snagging. Any tips, or should I send it back?
The size chart said medium but it's tight across the shoulders. Can I exchange it?
The discount code expired yesterday. Any chance it still works?
the checkout page won't load on my phone ##typo
The stove doesn't light on the first try. Is there a trick to it?
The hip belt buckle on my {pack} arrived cracked. Can you send a new one?
My {tent} came without the rainfly. Can you send it?
The boots squeak a little when I walk, is that normal?
The sale price didn't apply in my cart.
The site says in stock but then says unavailable at checkout.
{carrier} left my package at the wrong house. The neighbor brought it over but the box got wet. Just letting you know.
The color is a lot darker than the photos. I'll probably send it back.
My refund was less than what I paid. Why?
My gift card balance looks wrong.
I got two confirmation emails for one order. Was I charged twice?
The password reset link says it's expired.
The chatbot didn't understand my question earlier. Can someone help me with an exchange?
The bot keeps showing me the return policy but I asked about warranty. Can a person help?
The {boots} gave me blisters, I think they're half a size small. Can I still return them after wearing them twice?
The jacket is nice but the sleeves are too short for me. Can I exchange for a tall? ##mixed
I love the fleece but it sheds all over my black pants. Any washing tips? ##mixed
Slightly annoying that the pants have no back pocket, but they'll do.
Meh, the fit isn't great. How do I return it?
kinda bummed the green sold out before I could order ##typo
It's a little late but no big deal, just wondering when {order} will get here. ##negation
Not thrilled that shipping went up. Is there still a free shipping threshold? ##negation
Not the end of the world, but my order came without the gift note. ##negation
The new tent smells a bit like chemicals. Is that normal?
The stuff sack for the sleeping bag ripped on the first trip.
My trail runners started separating at the sole after about 100 miles. Warranty?
The box was opened and taped back up. Everything seems to be there though.
Ugh, I ordered the wrong size. Can I swap it?
My mistake, I put the wrong address on {order}. Can {carrier} redirect it?
hi the link in my return email is broken ##typo
got the wrong socks, ordered wool crew and got ankle ones ##typo
pkg came damaged, tent pole is bent, what do i do ##typo
My refund went to a card I've since cancelled. What happens now?
The headlamp won't hold a charge anymore and it's only 6 months old.
Shipping was slow this time, took 9 days. Hopefully the next one's quicker.
The shoulder straps on the {pack} don't work for me. Can I return it after one hike?
I was told a specialist would email me within 24 hours and it's been 2 days. Could someone check?
The bot gave me the wrong store hours. Are you open on Sundays?
Order says delivered but I don't see it yet. I'll check with the neighbors, anything else I should do?
A little frustrated the {jacket} is out of stock again. Any restock date?
You're sending a lot of emails lately, can I get fewer?
The price dropped two days after I bought it. Can I get the difference?
My order came in 3 separate boxes, which is a lot of cardboard. Can you combine them next time?
Shipping to Alaska is pretty expensive. Are there cheaper options?
My loyalty tier dropped and I'm not sure why.
Well, the "waterproof" jacket wasn't quite waterproof in yesterday's downpour. Can I send it in to be checked? ##sarcasm
Love that the two-day shipping took four days, but it's here now. All good. ##sarcasm
The drawcord on my hood snapped. Do you sell replacements?
My {fleece} shrank a size after one wash on cold. Any advice?
The {base} got a small hole after a few wears. Is that covered?
The sizing on your site is different from the tag. Which one is right?
The sole on one boot is peeling a little at the toe.
The tent pole shock cord is loose. Can I get it fixed?
I can't find where to enter my loyalty number at checkout.
The tracking link in the shipping email goes to a 404 page.
I was charged sales tax but I'm in a no-tax state?
The size 9 boots I got are labeled 9 but feel like an 8.5. Can I exchange?
The chat widget covers the checkout button on my phone.
My confirmation email has the wrong name on it.
The zipper pull came off my {pack}. Small thing, but can you send a new one?
Kind of a pain that I have to pay for return shipping on an exchange. Is that right?
The instructions for the {tent} are confusing. Is there a video?
Part of my order arrived and the rest says backordered. When will it come?
The kettle lid doesn't fit snugly. Is that how it's meant to be?
My account shows an order I don't recognize. Can you check?
I got the kids' size instead of the adult size. Exchange please.
The stove igniter stopped clicking after a few uses. What should I do?
My return was marked received a week ago but no refund yet.
The tag on my {jacket} says it's a large but it fits like a medium.
Bought the wrong color, my fault. How do I exchange?
I didn't get the free gift that was advertised with the {pack}.
The pants are too long, do you do hemming or should I return?
My points balance went down but I didn't use any.
The {boots} leak a little at the toe after a creek crossing. Warranty?
The gloves are a bit tight in the fingers, can I get the next size?
The sleeping bag has a few feathers poking out. Is that normal for down?
I couldn't apply my gift card online, it says invalid.
The delivery estimate keeps moving. Can you tell me the real date for {order}?
My package was left in the rain and the box is soggy. The jacket inside is fine but I wanted to mention it.
The webpage for the {tent} lists two different weights. Which is right?
The beanie is itchier than I expected. Can I return it?
The buckle on my {pack} broke on a trip last week. How do I get it replaced?
I think you sent me a used item, there's dirt on the soles. Can I exchange it?
I ordered two and only got one.
The packing slip is missing so I'm not sure how to return the {fleece}.
Honestly not great that the stove didn't come with instructions, but I figured it out. Do you have a PDF? ##negation
It's not a huge deal but the {pants} color faded after a few washes. ##negation
I don't want to make a fuss, but the {jacket} zipper is sticking. Any tips? ##negation
Not mad, but my order's a week late. What's going on? ##negation
Not really happy with the fit. Can I exchange for a different style? ##negation
I've emailed once about my exchange and haven't heard back yet, just following up.
The {bag} is colder than the rating in my experience. Can I exchange it for the warmer one?
The {jacket} I got has a small stain on the sleeve. Can you send another?
Loved my last pair but the new {boots} feel different. Did something change? ##mixed
Great jacket overall, but the pocket zipper already broke. How do I get it fixed? ##mixed
The tent is awesome but one of the guylines was missing. Could you send one? ##mixed
I bought the {jacket} in the fall and I really like it. Last week the main zipper started separating from the bottom. It's still usable if I'm careful, but I'd like to get it fixed before winter. What's the warranty process? ##mixed
My order arrived today, thanks. One thing though: the {fleece} is a size small but I ordered a medium. The packing slip says medium too, so I think it was just mislabeled. How do I swap it?
The {boots} fit fine length-wise but after a few hikes my heel is slipping. I've tried different lacing. Is this something an insole would fix or should I exchange them?
I returned two items from {order} about ten days ago. Tracking shows you received them last Tuesday. I haven't seen the refund yet, could you check if it's been processed?
Tracking for {order} showed delivered yesterday afternoon. I checked the porch, the mailroom and with my neighbors and it's not here. I'll wait another day in case it was marked early, but what should I do if it doesn't turn up?
I think there's a bug on your checkout page. When I enter my loyalty number it clears my promo code, and when I enter the promo code it clears my loyalty number. Is there a way to use both?
My refund went through but the shipping cost wasn't included. Is that right?
ordered a large got a small lol. how do i swap ##typo
the promo code says invalid?? its from your email ##typo
tracking hasnt moved since monday, can u check ##typo
bit annoyed the sale ended the day after i ordered, any chance of a price adjustment ##typo
zipper stuck on my jacket, warranty?? ##typo
item arrived scratched ##typo
wrong color sent
box was damaged
parcel late again?
my code doesnt work ##typo
""")
# ---- negative, at risk, no churn: strong frustration or anger that needs careful handling
block("negative_at_risk", "negative", False, True, [], """
This is the third time I'm asking: where is my order {order}?
Absolutely ridiculous, where is my parcel?
still nothing??
wtf
WHERE IS MY ORDER?!
I've been waiting two weeks for a reply. Unacceptable.
Are you serious? Tracking for {order} hasn't moved in 10 days and nobody answers.
This bot is useless. Get me a human.
You keep giving me the same canned answer. I ASKED ABOUT MY REFUND.
Great, another week of waiting, love that for me. ##sarcasm
Oh wonderful, the "waterproof" jacket soaked me through on the first hike. Fantastic. ##sarcasm
Wow, amazing service. Three emails and zero replies. ##sarcasm
Thanks for nothing. ##sarcasm
So {carrier} says delivered and you say it's not your problem? Seriously?
My refund has been "processing" for a month. What is going on??
I was promised a callback twice and nobody called. I'm so fed up.
The boots fell apart after two hikes. For $200 that's a joke.
this is the worst customer service ive ever dealt with ##typo
I'm beyond frustrated. I've explained this four times now.
Why is it so hard to get a straight answer from you people?
You sent me the wrong item AGAIN.
Second wrong size in a row. Does anyone even check the orders?
HELLO?? is anyone there
I need this tent for a trip on Friday and you STILL haven't shipped it. I'm furious.
The site charged me twice and now my account is overdrawn. Fix this NOW.
I'm so angry right now. My order says delivered and it's nowhere.
Your bot told me to "check the tracking" for the fifth time. I KNOW. IT'S NOT MOVING.
Nobody has answered my email in 8 days. Is anyone even working there?
Your promo code doesn't work, your site crashes, and now my order is stuck. What a mess.
I'm done being patient. Where is {order}?
😡😡😡 still no package
this is a joke 🙄
Seriously?? 🤬
The jacket leaked on day one and your warranty team wants photos of the care label?? Ridiculous.
I am extremely disappointed. My husband's birthday present didn't arrive and nobody can tell me why.
I've been a loyal customer for 6 years and this is how you treat me?
Unbelievable. The replacement is ALSO broken.
I paid for express shipping and it took 9 days. I want that fee back.
This is absurd. The return label you sent doesn't work and {carrier} refused my package.
I can't believe I have to chase you for my own money.
Every time I contact you I get a different answer. Which is it?
Lost parcel, no reply, no refund. Brilliant. ##sarcasm
ok this is getting ridiculous
still waiting. again.
seriously where is it
useless bot
Not happy. At all. ##negation
I'm not angry, I'm furious. ##negation
Not sure why I bother asking, nobody ever answers. ##negation
I don't want another apology, I want my package. ##negation
I don't want a link to the FAQ, I want someone to actually read my message. ##negation
I ordered the {tent} three weeks ago for a trip that starts tomorrow. It was supposed to arrive in 5 days. Tracking hasn't updated in 10 days, {carrier} says they never got it, and your email team keeps telling me to wait. I've had to borrow a tent from a friend. This is incredibly frustrating.
I returned the {jacket} on the 3rd. {carrier} shows you received it on the 8th. It's now the 29th and I still don't have my refund, and every time I ask I'm told "5 to 7 business days". How many times do 5 to 7 business days have to pass?
My son's scout trip was this weekend. The {bag} I ordered for him came with a broken zipper, so he spent two nights freezing in a borrowed blanket. I'm really upset about this.
I've spent an hour in this chat. I typed my order number four times. The bot keeps asking if I want to track my order. I want to talk to a person who can actually do something.
The {boots} I bought specifically for a Kilimanjaro trip started coming apart at the sole on day three. I had to duct-tape them to finish the climb. These were not cheap and I'm livid.
Your website took my money, then said the order failed, then I got charged again when I retried. Now I have two charges and zero confirmation emails. I'm really losing my patience here.
Do you actually read these messages or is it just a bot pretending?
I asked a simple question and got three paragraphs about your return policy. Answer the question.
this chat is going in circles ##typo
your bot is dumb as rocks ##typo
how is this so hard
Nobody at your company seems to know what they're doing.
That's the same answer you gave me yesterday and it was wrong then too.
I'm getting really tired of this.
I want to speak to a manager.
Escalate this please. I've had enough.
The item is broken, the replacement is broken, and now you want me to pay return shipping? No.
You've had my return for three weeks. Where. Is. My. Refund.
the tracking number you gave me doesn't even exist ##typo
I've been on hold for 45 minutes and the chat is no better.
Are you kidding me? The sale ended and you charged full price even though the code was applied.
I'm losing my mind with this order.
What kind of company loses a 6 lb tent box twice?
So I'm supposed to just eat the cost because {carrier} lost it? Absolutely not.
My order was cancelled without any explanation and the item is now sold out. Thanks a lot. ##sarcasm
Oh good, another automated email telling me my package is "on its way". Ten days now. ##sarcasm
Love how the "lifetime warranty" apparently means 11 months. ##sarcasm
Thanks for the 20% off code for my next order, really helpful when this order never showed up. ##sarcasm
Cool, so the bot can recommend socks but can't find my order. Amazing. ##sarcasm
Super helpful, thanks. Not. ##sarcasm
wow. just wow.
THIS IS UNACCEPTABLE
I HAVE ASKED FIVE TIMES
WHY IS NOBODY ANSWERING ME
I NEED MY ORDER BY SATURDAY, WHERE IS IT
STOP SENDING ME THE SAME LINK
your chatbot is WORTHLESS
I'm SO done with this chat
answer me!!!
hello???
ANYONE???
still nothing from {carrier} and still nothing from you 😤
🙄🙄 seriously
broken again 😡
this is taking forever 😩
I'm fuming 🤬 where is {order}
ridiculous
unbelievable
pathetic
are you kidding me
this is insane
The {jacket} looks great but it leaked through in an hour and now nobody will answer my warranty claim. I'm really annoyed. ##mixed
Your gear is great, your customer service is the opposite. I've been waiting 3 weeks for an answer. ##mixed
I love your boots but this is the third pair that's come apart at the same spot. This is getting ridiculous. ##mixed
Normally you guys are great, which is why this mess with {order} is so infuriating. ##mixed
Really like the fleece, but being charged twice and ignored for a week is not ok. ##mixed
I've been polite for two weeks. I'm not feeling polite anymore. ##negation
I'm not asking again. Where is {order}? ##negation
It's not a hard question. Where is my package? ##negation
No, I don't want to "check the FAQ". I want my order. ##negation
i am so frustrated right now, nobody can tell me where my stuff is ##typo
tracking says deliverd 3 days ago, its NOT HERE, what are you going to do about it ##typo
this is the 4th time im contacting u about the same thing ##typo
ive been charged 3 times for one order and no one has fixed it ##typo
omg how hard is it to ship a jacket ##typo
wheres my refund, its been a month ##typo
my package has been stuck in the same place for two weeks and you dont care ##typo
You told me the replacement would ship Monday. It's Friday. Nothing.
The website ate my cart three times and now the sale is over. I'm really irritated.
I ordered a size 10 and got an 8 for the second time. How does this keep happening?
Your 'express' shipping is slower than my grandma. ##sarcasm
My tent arrived soaking wet and moldy. Disgusting.
I keep getting charged for a subscription I never signed up for. Stop it.
I've sent the photos three times. What more do you want?
You people keep saying "we're looking into it". For two weeks.
The damaged box was obvious and {carrier} delivered it anyway. Now who's fixing this?
My kid's birthday is ruined because your site said "in stock" when it wasn't.
I have been trying to return this for a month. The label never works.
This is the worst experience I've had with any online store.
I'm honestly shocked at how bad this has been.
Why did I get an email saying my order shipped when it clearly didn't?
I specifically asked for Saturday delivery and paid extra for it. It came Tuesday. What a waste.
So the loyalty points I saved for a year just vanished? Great. ##sarcasm
The chatbot just told me my order "doesn't exist". I have the confirmation email right here. Fix your system.
I gave you my order number three times already.
Read my message again. I said the ZIPPER is broken, not the size.
I asked for a refund to my card, not store credit. Why is this so complicated?
You cancelled my order because of a "payment issue" but charged me anyway. Explain.
Don't tell me to wait another 48 hours.
I'm really upset. The {bag} was a gift and it arrived with a huge tear.
It's been 3 weeks and I have no package and no answers.
Mortified. I gave this jacket as a gift and the zipper broke the first time he wore it.
I'm starting to think this order is never coming.
Why would you ship a tent with no poles?! We're at the campsite right now.
My delivery was marked "refused" and I never refused anything. Who is lying here?
Your return center lost my return and now you say I have no proof. I have the receipt!
The bot just closed my chat in the middle of a conversation. Twice.
Am I talking to a wall?
I've explained this to four different people now and nobody has fixed it.
Enough with the apologies. Just fix it.
why does nobody read my emails ##typo
I need an answer today, not another ticket number.
The parcel has been "delayed" every day for eleven days.
Your site charged my card before telling me the {boots} were out of stock. Really?
I'M STILL WAITING FOR MY REFUND
NOBODY HAS CALLED ME BACK
YOU SENT THE WRONG SIZE AGAIN
I SAID I NEED A HUMAN
THE TRACKING HASN'T MOVED IN TWO WEEKS. WHAT IS GOING ON?
Why does it say DELIVERED when it's NOT HERE?
I paid for EXPRESS. It's been a WEEK.
My {tent} arrived with a broken pole two days before our trip. Completely unacceptable.
I've been refreshing the tracking page for a week like an idiot. Where is it?
This is my fourth message. Is anyone reading these?
The chatbot keeps saying "I don't understand". Then get me someone who does.
I'm really fed up with the back and forth on this warranty claim.
How is it possible that nobody can tell me where my package is?
{carrier} says you never handed it over. You say you did. I'm stuck in the middle and nobody cares.
Please stop telling me it's "on its way". It's been 16 days.
The replacement you sent is the exact same wrong size. Again. Did anyone read my message?
I'm so sick of this.
The refund you promised "by Friday" is still not here. That was two Fridays ago.
why am i being charged for something i returned a month ago?? ##typo
Two hours of my life wasted on this chat.
I've contacted you four times about {order}. Each time I get a different story: first it was a warehouse delay, then a carrier issue, then "should arrive tomorrow". It's been three weeks. I don't want another story, I want my order.
The {tent} pole snapped on the first night of our trip. We spent the rest of the weekend with a collapsed tent in the rain. I sent photos the next day. Ten days later nobody has answered. I'm really angry about this.
I returned the {boots} because they were the wrong size. You received them on the 2nd. Instead of the exchange I asked for, you refunded me, and now the size I need is sold out. Nobody I talk to seems to understand what went wrong.
My order was supposed to arrive on Tuesday. On Tuesday the tracking said Thursday. On Thursday it said "delayed". Today it says "return to sender" and nobody can tell me why. This is a mess.
I've been trying to use my gift card for two weeks. The website says it's invalid. Your email team says it's fine. The chatbot says to contact the email team. Please, someone, just fix it.
Third time writing in. The {jacket} I received has a tear in the sleeve. I sent pictures twice. I was told a replacement would ship last Monday. Nothing has shipped and nobody replies.
I'm so disappointed. I waited months for this jacket to be restocked and the one I got is damaged.
""")
# ---- negative, churn intent (and therefore at risk)
block("negative_churn", "negative", True, True, [], """
never ordering again
Never ordering from you again.
Close my account. I'm done.
I'll just buy from {comp}.
I'm disputing this with my bank.
refund now
Just give me my money back.
I want a full refund and I'm never shopping here again.
Cancel everything and refund me. I'm done with this company.
If I don't get my refund by Friday I'm filing a chargeback.
I've already opened a dispute with my credit card company. ##chargeback
Consider this my last order.
Lost customer. Congrats. ##sarcasm
Thanks for teaching me to shop at {comp}. ##sarcasm
Amazing how {comp} can ship in two days and you can't ship in two weeks. Guess where I'm ordering from now. ##sarcasm
I'm telling everyone in my hiking club to stay away from you. I certainly won't be back.
I've always liked shopping here and I've tried to be patient, but after three missed deliveries I think it's best I take my business elsewhere. Thank you for your time. ##polite_angry
With respect, I won't be placing any further orders. Please refund {order} in full. ##polite_angry
I appreciate your help so far, but I'd kindly ask you to close my account. I no longer trust your shipping. ##polite_angry
Thank you for the apology. Unfortunately it isn't enough, and I'll be shopping at {comp} from now on. ##polite_angry
I'm sorry to say this will be my last order with you. ##polite_angry
Thank you for your patience with me. I've decided, regretfully, to close my account after this experience. ##polite_angry
I understand mistakes happen, truly. But this is the fourth one this year, and I think I'm finished ordering from Ridgeline. ##polite_angry
I'd be grateful if you could process a full refund for {order}. I won't be ordering again, but I wish you all the best. ##polite_angry
I don't mean to be difficult, but unless this is resolved today I'll have to ask my bank to reverse the charge. ##polite_angry chargeback
Kind regards, and please take this as my notice that I'm cancelling my membership. I've been let down too many times. ##polite_angry
I've been a loyal customer for eight years, and it genuinely pains me to say I'm moving to {comp}. ##polite_angry
Many thanks for trying. Sadly I'll be taking my custom elsewhere. ##polite_angry
I WANT MY MONEY BACK
CANCEL MY ACCOUNT NOW
NEVER AGAIN
REFUND ME OR I'M CALLING MY BANK ##chargeback
I'M DONE WITH THIS STORE. CLOSE MY ACCOUNT.
YOU JUST LOST A CUSTOMER
done with this store 👋
bye forever ✌️
lost a customer today 👏👏 ##sarcasm
ordering from {comp} from now on 🙄
i'm never orderin from here agian ##typo
cancle my acount ##typo
ur the worst, going to rei ##typo
im calling my bank ##chargeback typo
I'll just do a chargeback then.
PayPal claim opened. ##chargeback
Disputing the charge.
I used to love your stuff, but {comp} treats its customers better. I'm switching. ##mixed
Your jackets are great but your shipping is a nightmare. I'm done ordering from you. ##mixed
The {boots} were the best I've owned, which makes it sadder that I'm never ordering from you again after this. ##mixed
I've spent over $2,000 with you over the years. After how {order} was handled, that's over.
I don't want a replacement, I want my money back. NOW.
Stop offering me store credit. I want a refund to my card and I'm done.
You can keep your coupon. I'm never shopping here again.
This is my last order. I'm going back to {comp} where they actually answer emails.
If this isn't sorted today, I'm reporting it to my card company and never buying from you again. ##chargeback
Three weeks, no parcel, no refund. I've filed a dispute with my bank. ##chargeback
Refund me today or I'm disputing it with Visa. ##chargeback
I'm going to file a chargeback, this is theft. ##chargeback
Unsubscribe me, delete my account, and refund {order}. I'm finished with you people.
I'll be buying my gear at {comp} from now on. At least they ship on time.
{comp} would never do this to me. I'm going back to them.
Good luck staying in business treating customers like this. I'm out.
You've lost my business for good.
Forget it. I'll buy it at {comp}.
Just cancel it. I'll get it at {comp} tomorrow.
I'm returning everything and I won't be back.
Don't bother with the discount code. I'm not ordering from you again.
I'm canceling {order} and my account. Worst experience ever.
Your customer service just cost you a customer.
That's it, I'm deleting my account.
I've had it. Cancel my order, refund me, and remove my card.
Seriously considering a chargeback at this point. ##chargeback
refund my money or i dispute it ##typo chargeback
want my money back not a voucher ##typo
u just lost a customer ##typo
never buying from u again ##typo
going to backcountry, bye ##typo
i want a refund, i'm done ##typo
Not ordering from here ever again. ##negation
I won't be recommending you to anyone, and I won't be back. ##negation
No, I don't want another replacement. Refund me and close my account. ##negation
I'm not waiting another week. Cancel it and refund me, I'll buy elsewhere. ##negation
No more chances. I'm done. ##negation
Great job, you've convinced me to shop at {comp}. ##sarcasm
Wonderful. Another lost parcel. Guess I'm an Amazon Prime customer now. ##sarcasm
So glad I waited three weeks for nothing. Refund me, I'm going to {comp}. ##sarcasm
Fantastic customer service, really. I'll be sure to never experience it again. ##sarcasm
Thanks a lot, really. I'll take my money somewhere that appreciates it. ##sarcasm
I bought the {tent} for our anniversary trip. It came with a torn fly, the replacement was the wrong model, and the third one is "on backorder" with no date. We went camping in my brother's old tent. I want a full refund for everything and I'm not ordering from you again.
I've ordered from Ridgeline for years and recommended you to everyone. Over the last two months I've had a lost parcel, a refund that took five weeks, and a warranty claim nobody answered. I'm closing my account and moving to {comp}. I'm honestly sad about it.
Your courier lost my package. Your chatbot told me to wait. Your email team told me to file a claim with {carrier}, who told me to contact you. I've now opened a dispute with my credit card company and I'll be shopping elsewhere. ##chargeback
I need the {jacket} for a trip next week and it's been stuck in a warehouse for ten days. I've just ordered the same thing from {comp} with next-day delivery. Cancel mine and refund it.
I asked three times for the return label. Three times I got an automated "we're on it". I'm done waiting. I'm calling my bank Monday morning. ##chargeback
The {boots} fell apart in a month. The warranty form keeps erroring. Customer service won't reply. I'll just buy Salomons at {comp} and never come back.
I want to cancel my loyalty membership and every open order. After this week I won't be shopping at Ridgeline again.
I've reported your company to the BBB and I'm never ordering again.
Cancel my order and close my account, I'm done dealing with this.
I'm going to {comp}. They price match, ship faster, and actually answer.
How many times do I have to ask? Cancel my order and give me my money back.
Why would I ever order from you again after this?
Forget the exchange. Refund. Now.
Final warning: refund {order} or I'm disputing it. ##chargeback
Unacceptable. I'm taking my business to {comp}.
I'm leaving a one-star review everywhere and I'm done with you.
Stop emailing me. Close my account. I'm done with Ridgeline.
After this mess, {comp} gets all my business from now on.
I just want my money back and to never deal with you again.
Nope. Done. Refund.
delete my account, this place is a joke
Please just refund me. I can't do this anymore, I'm shopping elsewhere. ##polite_angry
I placed {order} a month ago. It was lost, then "found", then lost again. I've spent hours on this. Please refund the full amount and close my account. I'll buy from {comp} from now on.
I've been a member of your loyalty program for five years. This year I've had two lost parcels and a warranty claim rejected for no reason. I'm done. Please cancel my membership and refund {order}.
Dear Ridgeline team, I've always appreciated your products. Regrettably, the way my return has been handled has left me with no choice. I've asked my bank to reverse the charge and I won't be ordering again. Kind regards. ##polite_angry chargeback
The {boots} split at the seam after two weeks. Your warranty team says it's "wear and tear". I've worn the same kind of boot from {comp} for years without a problem. I'm returning these and going back to them.
You charged me twice for {order}. I reported it a week ago. Today I got charged a THIRD time. I've called my bank, they're disputing all three, and I'm never using your site again.
I've been very patient, but this is my fourth message about {order}. If I don't hear back today I'll have to shop elsewhere. ##polite_angry
I really don't want to, but I'll have to close my account if this can't be resolved. Thank you for understanding. ##polite_angry
Thank you for looking into it. Honestly though, I think I'll just order from {comp} next time. ##polite_angry
Please don't take this personally, you've been kind, but I'll be closing my account today. ##polite_angry negation
I appreciate the offer, but I'd rather just have my money back and part ways. ##polite_angry
Thanks for trying to help. At this point I'd prefer a full refund, and I'll look elsewhere for my gear. ##polite_angry
I'm sure you're doing your best, but I'm afraid I've lost confidence in Ridgeline. Please close my account. ##polite_angry
Respectfully, if my refund isn't processed this week I'll be filing a dispute with my card issuer. ##polite_angry
No offense to you personally, but I'm done ordering here. Could you please cancel {order}? ##polite_angry negation
""")

# ---------------------------------------------------------------- variation
# Expected number of extra variants per base message, per block. Tuned so the
# file lands near the target mix (~45% neutral, ~20% positive, ~35% negative,
# ~30% at_risk, ~12% churn_intent) without writing more of one kind by hand.
EXTRA_VARIANTS = {
    "neutral_question_shipping": 0.7, "neutral_question_orders": 0.7,
    "neutral_question_returns": 0.7, "neutral_question_sizing": 0.7,
    "neutral_question_stock": 0.7, "neutral_question_product": 0.7,
    "neutral_question_money": 0.7, "neutral_question_account": 0.7,
    "neutral_question_warranty_misc": 0.7, "neutral_hard_not_risk": 1.0,
    "neutral_statement": 0.3, "neutral_churn": 0.5, "neutral_at_risk": 0.5, "positive": 0.7,
    "negative_mild": 0.4, "negative_at_risk": 0.8, "negative_churn": 0.35,
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
DECLARED_TAGS = {"sarcasm", "negation", "mixed", "typo", "question", "polite_angry", "chargeback"}
ALL_TAGS = sorted(DECLARED_TAGS | {"short", "long", "caps", "emoji", "competitor"})
COMPETITOR_RE = re.compile(r"\b(" + "|".join(COMPETITORS) + r")\b", re.I)
CHARGEBACK_RE = re.compile(r"charge ?back|disput", re.I)
EMOJI_RE = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2764\u270C]")
# Upper-case words that are names, not shouting.
ACRONYMS = {"UPS", "USPS", "DHL", "REI", "USD", "XXL", "ASAP", "PFAS", "APO", "FPO", "VAT",
            "FAQ", "BBB", "PDF", "AI", "XL", "XS", "US", "EU", "UK", "OK"}
COMMON_MISSPELLINGS = {
    "receive": "recieve", "received": "recieved", "definitely": "definately",
    "separate": "seperate", "tomorrow": "tommorow", "because": "becuase",
    "address": "adress", "package": "pakage", "until": "untill", "which": "wich",
    "already": "allready", "really": "realy", "cancel": "cancle", "account": "acount",
    "different": "diffrent", "delivered": "deliverd", "shipping": "shiping",
    "waiting": "wating", "exchange": "exhange", "weather": "wether", "please": "pls",
    "thanks": "thx", "jacket": "jaket", "sleeping": "sleping", "business": "buisness",
}
GREETINGS = ["Hi, ", "Hello, ", "hey, ", "Hi there, ", "Hi! ", "Good morning, "]
# An upset shopper does not open with "Good morning"; keep their greetings terse.
UPSET_GREETINGS = ["hi, ", "Hello? ", "Hi. ", "hey, "]


def parse_bases():
    """Return the hand-written base messages with their block labels."""
    bases = []
    for name, sentiment, churn, at_risk, tags, text in BLOCKS:
        assert name in EXTRA_VARIANTS, f"no EXTRA_VARIANTS entry for block {name}"
        for line in text.strip().splitlines():
            line = line.strip()
            if not line:
                continue
            body, _, tag_text = line.partition(" ##")
            declared = set(tags) | set(tag_text.split())
            unknown = declared - DECLARED_TAGS
            assert not unknown, f"unknown tags {unknown} in {line!r}"
            for slot in PLACEHOLDER.findall(body):
                assert slot in POOLS or slot == "order", f"unknown placeholder {slot} in {line!r}"
            bases.append({"block": name, "template": body.strip(), "sentiment": sentiment,
                          "churn_intent": churn, "at_risk": at_risk, "declared": declared})
    return bases


def fill(template, rng):
    """Fill each placeholder once (a slot used twice gets the same value)."""
    values = {}
    for slot in PLACEHOLDER.findall(template):
        if slot not in values:
            values[slot] = f"A{rng.randint(1001, 1999)}" if slot == "order" else rng.choice(POOLS[slot])
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def words(text):
    return [w for w in text.split() if any(c.isalnum() for c in w) or EMOJI_RE.search(w)]


def is_shouting(text):
    caps = [w for w in re.findall(r"[A-Za-z']+", text)
            if len(w.replace("'", "")) >= 3 and w.isupper() and w.replace("'", "") not in ACRONYMS]
    alpha = [w for w in re.findall(r"[A-Za-z']+", text) if len(w) >= 3]
    return len(caps) >= 2 or (len(caps) == 1 and len(alpha) == 1)


def surface_tags(text):
    """Tags that follow from the text itself."""
    tags = set()
    n = len(words(text))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    if 1 <= n <= 4:
        tags.add("short")
    if len(sentences) >= 3 and n >= 30:
        tags.add("long")
    if is_shouting(text):
        tags.add("caps")
    if EMOJI_RE.search(text):
        tags.add("emoji")
    if COMPETITOR_RE.search(text):
        tags.add("competitor")
    if CHARGEBACK_RE.search(text):
        tags.add("chargeback")
    return tags


def add_typo(text, rng):
    """One realistic misspelling: a common one if the text has a candidate, else a slip of the finger."""
    tokens = text.split(" ")
    common = [i for i, t in enumerate(tokens) if t.lower().strip(".,!?") in COMMON_MISSPELLINGS]
    if common and rng.random() < 0.6:
        i = rng.choice(common)
        core = tokens[i].strip(".,!?")
        wrong = COMMON_MISSPELLINGS[core.lower()]
        if core.isupper():
            wrong = wrong.upper()
        elif core[:1].isupper():
            wrong = wrong.capitalize()
        tokens[i] = tokens[i].replace(core, wrong)
        return " ".join(tokens)
    candidates = [i for i, t in enumerate(tokens)
                  if re.fullmatch(r"[a-z]{5,}[.,!?]?", t) and not COMPETITOR_RE.search(t)]
    if not candidates:
        return None
    i = rng.choice(candidates)
    word = re.match(r"[a-z]+", tokens[i]).group(0)
    rest = tokens[i][len(word):]
    j = rng.randint(1, len(word) - 2)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    elif kind == "drop":
        word = word[:j] + word[j + 1:]
    else:
        word = word[:j] + word[j] + word[j:]
    tokens[i] = word + rest
    return " ".join(tokens)


def greet(text, rng, upset):
    g = rng.choice(UPSET_GREETINGS if upset else GREETINGS)
    first = text.split(" ", 1)[0]
    keep_case = first in {"I", "I'm", "I've", "I'd", "I'll"} or first.isupper() or first[:1] == "{"
    if g.endswith(", ") and not keep_case and not COMPETITOR_RE.fullmatch(first.strip(".,!?")):
        text = text[:1].lower() + text[1:]
    return g + text


def variant(base, rng):
    """A label-preserving rewrite of one base message, or None if this try failed."""
    template = base["template"]
    text = fill(template, rng)  # a new fill, different whenever the template has slots
    meaning_tags = surface_tags(text) & {"competitor", "chargeback"}
    shouting = is_shouting(text)
    ops = []
    if len(words(text)) > 4 and not re.match(r"(?i)(hi|hello|hey|good morning)\b", text):
        ops.append("greet")
    if "'" in text:
        ops.append("apostrophe")
    if not shouting:
        ops.append("lower")
    ops.append("typo")
    n_ops = 1 if PLACEHOLDER.search(template) and rng.random() < 0.6 else rng.choice([1, 1, 2])
    if PLACEHOLDER.search(template) and rng.random() < 0.35:
        n_ops = 0  # only the fill-ins change
    chosen = set(rng.sample(ops, min(n_ops, len(ops))))
    sloppy = False
    if "greet" in chosen:
        # Polite-but-leaving shoppers keep their manners; only the openly upset are terse.
        text = greet(text, rng, base["at_risk"] and "polite_angry" not in base["declared"])
    if "apostrophe" in chosen:
        text, sloppy = text.replace("'", ""), True
    if "typo" in chosen:
        typoed = add_typo(text, rng)
        if typoed is None:
            return None
        text, sloppy = typoed, True
    if "lower" in chosen:
        lowered = re.sub(r"[.!]+$", "", text.lower()).strip()
        if lowered == text:
            return None
        text, sloppy = lowered, True
    tags = base["declared"] | meaning_tags | (surface_tags(text) - {"competitor", "chargeback"})
    if sloppy:
        tags.add("typo")
    return text, tags


# ---------------------------------------------------------------- assembly
def build():
    """Return the full list of labeled rows (without split or id yet)."""
    rows, seen = [], set()
    for b_index, base in enumerate(parse_bases()):
        rng = random.Random(f"{SEED}-{base['template']}")
        base_id = f"b{b_index + 1:04d}"
        texts = []
        first = fill(base["template"], rng)
        texts.append((first, base["declared"] | surface_tags(first)))
        rate = EXTRA_VARIANTS[base["block"]]
        extra = int(rate) + (rng.random() < rate - int(rate))
        tries = 0
        while len(texts) < 1 + extra and tries < 30:
            tries += 1
            made = variant(base, rng)
            if made and made[0] not in seen and made[0] not in {t for t, _ in texts}:
                texts.append(made)
        for text, tags in texts:
            key = text.strip()
            if key in seen:
                continue  # identical text from another base: keep only the first
            seen.add(key)
            rows.append({"text": text, "sentiment": base["sentiment"],
                         "churn_intent": base["churn_intent"], "at_risk": base["at_risk"],
                         "tags": sorted(tags), "base": base_id, "block": base["block"]})
    return rows


def assign_splits(rows, rng):
    """~25% of each block's rows to test, whole base groups at a time.

    Stratifying by block stratifies by at_risk (a block fixes it) and keeps
    every kind of message, hard cases included, in both splits.
    """
    by_block = {}
    for row in rows:
        by_block.setdefault(row["block"], {}).setdefault(row["base"], []).append(row)
    for block_name in sorted(by_block):
        groups = by_block[block_name]
        base_ids = sorted(groups)
        rng.shuffle(base_ids)
        total = sum(len(groups[b]) for b in base_ids)
        in_test = 0
        for b in base_ids:
            n = len(groups[b])
            split = "test" if in_test + n / 2 <= TEST_FRACTION * total else "train"
            in_test += n if split == "test" else 0
            for row in groups[b]:
                row["split"] = split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Required: the default file now belongs to build_messages.py (v1 and v2 together).
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--stats", action="store_true", help="print label counts")
    args = parser.parse_args()
    rng = random.Random(SEED)
    rows = build()
    assign_splits(rows, rng)
    rng.shuffle(rows)  # so ids carry no information about the label
    with args.out.open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows, 1):
            record = {"id": f"m{i:05d}", "text": row["text"], "sentiment": row["sentiment"],
                      "churn_intent": row["churn_intent"], "at_risk": row["at_risk"],
                      "tags": row["tags"], "split": row["split"], "base": row["base"]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} messages from {len({r['base'] for r in rows})} base messages to {args.out}")
    if args.stats:
        n = len(rows)
        for key in ("sentiment", "churn_intent", "at_risk", "split"):
            counts = Counter(r[key] for r in rows)
            print(key, {k: f"{v} ({v / n:.0%})" for k, v in sorted(counts.items(), key=str)})
        print("tags", dict(sorted(Counter(t for r in rows for t in r["tags"]).items())))
        print("blocks", dict(Counter(r["block"] for r in rows)))


if __name__ == "__main__":
    main()
