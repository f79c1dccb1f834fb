"""One seed, one history: every user, order, item, stock row and click from 2019 to the horizon.

The whole timeline is drawn once, as numbers (times in microseconds since the epoch, UTC; text as
indices into vocabularies), and every table is kept sorted by creation time so that an entity's id is
its position + 1, like an auto-increment key. A snapshot "as of D" is then a prefix of each table, which
is what makes two snapshots of one seed agree: same id, same entity.

Timestamps that the final outcome never reaches (a Processing order's shipped_at) are `NEVER`; those
that fall after a snapshot's cut-off are NULL in that snapshot, and the status follows from which ones
have happened. Each component draws from its own random stream, derived from the seed and its name.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from thelook_ecommerce_analysis.synth import rules
from thelook_ecommerce_analysis.synth.people_reference import (
    CITIES,
    COUNTRY_SHARES,
    DIRTY_COUNTRY_SPELLINGS,
    DIRTY_SPELLING_SHARE,
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
)
from thelook_ecommerce_analysis.synth.products import Catalog, build_catalog
from thelook_ecommerce_analysis.synth.rules import NEVER
from thelook_ecommerce_analysis.synth.text import random_nibbles

T = TypeVar("T")
COUNTRY_NAMES: tuple[str, ...] = (*COUNTRY_SHARES, *DIRTY_COUNTRY_SPELLINGS.values())
FIRST_NAMES: tuple[str, ...] = (*MALE_FIRST_NAMES, *FEMALE_FIRST_NAMES)
FEMALE = rules.GENDERS.index("F")
LOCATION_JITTER_DEGREES = 0.03
UUID_NIBBLES = 32


def start_of_day_us(day: date) -> int:
    """Microseconds since the epoch at 00:00 UTC of `day`."""
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp()) * rules.MICROSECONDS_PER_SECOND


def end_of_day_us(day: date) -> int:
    """The last microsecond of `day` (UTC): a snapshot as of `day` holds what happened up to here."""
    return start_of_day_us(day) + rules.MICROSECONDS_PER_DAY - 1


TIMELINE_START_US = start_of_day_us(rules.TIMELINE_START)
HORIZON_END_US = end_of_day_us(rules.HORIZON)


def random_stream(seed: int, component: str) -> np.random.Generator:
    """An independent generator per component, so that e.g. products do not depend on the user count."""
    return np.random.default_rng([seed, zlib.crc32(component.encode())])


@dataclass(frozen=True)
class Users:
    created: np.ndarray  # sorted
    gender: np.ndarray  # index into rules.GENDERS
    age: np.ndarray
    city: np.ndarray  # index into CITIES
    country: np.ndarray  # index into COUNTRY_NAMES (includes the dirty spellings)
    latitude: np.ndarray
    longitude: np.ndarray
    first_name: np.ndarray  # index into FIRST_NAMES
    last_name: np.ndarray
    street_number: np.ndarray
    street_name: np.ndarray
    street_suffix: np.ndarray
    email_domain: np.ndarray
    traffic_source: np.ndarray  # index into rules.USER_TRAFFIC_SOURCES


@dataclass(frozen=True)
class Orders:
    user: np.ndarray  # user position
    created: np.ndarray  # sorted
    final_status: np.ndarray  # status code at the horizon's end of history
    shipped: np.ndarray  # NEVER when the order is never shipped
    delivered: np.ndarray
    returned: np.ndarray
    item_count: np.ndarray
    first_item: np.ndarray  # position of its first order item (items are grouped by order)


@dataclass(frozen=True)
class Items:
    order: np.ndarray  # order position, non-decreasing
    created: np.ndarray
    product: np.ndarray  # product position


@dataclass(frozen=True)
class Inventory:
    product: np.ndarray
    created: np.ndarray  # sorted
    sold: np.ndarray  # NEVER for stock that is never sold
    row_of_item: np.ndarray  # per order item, the position of the stock row it sold


@dataclass(frozen=True)
class Sessions:
    user: np.ndarray  # the user whose place the session is in (its user_id only when not a ghost)
    ghost: np.ndarray  # anonymous browsing: user_id NULL
    browser: np.ndarray  # index into rules.BROWSERS
    traffic_source: np.ndarray  # index into rules.EVENT_TRAFFIC_SOURCES
    ip_octets: np.ndarray  # (sessions, 4)
    uuid_nibbles: np.ndarray  # (sessions, 32)


@dataclass(frozen=True)
class Events:
    session: np.ndarray
    position: np.ndarray  # 0-based place in its session (sequence_number - 1)
    created: np.ndarray  # sorted
    event_type: np.ndarray  # index into rules.EVENT_TYPES
    product: np.ndarray  # the product a department/product/cart click is about, -1 otherwise


@dataclass(frozen=True)
class Timeline:
    catalog: Catalog
    users: Users
    orders: Orders
    items: Items
    inventory: Inventory
    sessions: Sessions
    events: Events


def draw(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    """Values (the keys of `weights`) drawn with their weights."""
    return rng.choice(np.array(list(weights)), size=size, p=rules.probabilities(weights))


def draw_index(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    """Positions in the weight table (for text columns decoded from the table's keys)."""
    return rng.choice(len(weights), size=size, p=rules.probabilities(weights))


def random_delay(rng: np.random.Generator, size: int, max_us: int) -> np.ndarray:
    return (rng.random(size) * max_us).astype(np.int64)


def after(rng: np.random.Generator, base: np.ndarray, happens: np.ndarray, max_days: int) -> np.ndarray:
    """base + up to `max_days` where `happens`, else NEVER; never past the horizon.

    Squeezing the last steps of orders placed just before the horizon into the time left makes the
    horizon snapshot show exactly the final-status shares of the spec.
    """
    start = np.where(happens, base, HORIZON_END_US)
    room = np.minimum(max_days * rules.MICROSECONDS_PER_DAY, HORIZON_END_US - start)
    return np.where(happens, start + (rng.random(len(base)) * room).astype(np.int64), NEVER)


def build_timeline(users: int, seed: int, progress: bool = False) -> Timeline:
    """The whole history of `users` sign-ups, drawn from `seed` (a progress step per component)."""
    with tqdm(total=6, desc=f"{'timeline':<20}", unit="step", disable=not progress) as bar:

        def step(result: T) -> T:
            bar.update()
            return result

        catalog = step(build_catalog(random_stream(seed, "products")))
        people = step(build_users(random_stream(seed, "users"), users))
        orders = step(build_orders(random_stream(seed, "orders"), people))
        items = step(build_items(random_stream(seed, "items"), orders, people, catalog))
        inventory = step(build_inventory(random_stream(seed, "inventory"), items, orders))
        sessions, events = step(build_events(random_stream(seed, "events"), people, orders, items, catalog))
    return Timeline(catalog, people, orders, items, inventory, sessions, events)


def draw_signups(rng: np.random.Generator, count: int) -> np.ndarray:
    """Sign-up times from 2019-01-01 to the horizon, 2.5% of them in its last 7 days; sorted."""
    recent_start = HORIZON_END_US - rules.RECENT_SIGNUP_DAYS * rules.MICROSECONDS_PER_DAY
    recent = rng.random(count) < rules.RECENT_SIGNUP_SHARE
    early = rng.integers(TIMELINE_START_US, recent_start, count)
    late = rng.integers(recent_start, HORIZON_END_US, count)
    return np.sort(np.where(recent, late, early))


def city_probabilities() -> np.ndarray:
    """P(city) = share of its country x its weight among that country's cities."""
    weights = np.array([city.weight for city in CITIES])
    countries = np.array([city.country for city in CITIES])
    country_totals = {country: weights[countries == country].sum() for country in COUNTRY_SHARES}
    shares = np.array([COUNTRY_SHARES[c] / country_totals[c] for c in countries]) * weights
    return shares / shares.sum()


def misspell_some_countries(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Keep theLook's dirt: a few Spanish/German users with 'España'/'Deutschland' (at least one)."""
    spelled = country.copy()
    for clean, dirty in DIRTY_COUNTRY_SPELLINGS.items():
        members = np.flatnonzero(country == COUNTRY_NAMES.index(clean))
        if len(members):
            chosen = rng.choice(members, max(1, round(DIRTY_SPELLING_SHARE * len(members))), replace=False)
            spelled[chosen] = COUNTRY_NAMES.index(dirty)
    return spelled


def build_users(rng: np.random.Generator, count: int) -> Users:
    gender = rng.integers(0, len(rules.GENDERS), count)
    city = rng.choice(len(CITIES), size=count, p=city_probabilities())
    city_country = np.array([COUNTRY_NAMES.index(c.country) for c in CITIES])
    latitudes = np.array([c.latitude for c in CITIES])
    longitudes = np.array([c.longitude for c in CITIES])
    male_names, female_names = len(MALE_FIRST_NAMES), len(FEMALE_FIRST_NAMES)
    first_name = np.where(
        gender == FEMALE,
        male_names + rng.integers(0, female_names, count),
        rng.integers(0, male_names, count),
    )
    return Users(
        created=draw_signups(rng, count),
        gender=gender,
        age=rng.integers(rules.MIN_AGE, rules.MAX_AGE + 1, count),
        city=city,
        country=misspell_some_countries(rng, city_country[city]),
        latitude=latitudes[city] + rng.uniform(-LOCATION_JITTER_DEGREES, LOCATION_JITTER_DEGREES, count),
        longitude=longitudes[city] + rng.uniform(-LOCATION_JITTER_DEGREES, LOCATION_JITTER_DEGREES, count),
        first_name=first_name,
        last_name=rng.integers(0, len(LAST_NAMES), count),
        street_number=rng.integers(1, 10_000, count),
        street_name=rng.integers(0, len(STREET_NAMES), count),
        street_suffix=rng.integers(0, len(STREET_SUFFIXES), count),
        email_domain=rng.integers(0, len(EMAIL_DOMAINS), count),
        traffic_source=draw_index(rng, rules.USER_TRAFFIC_SOURCES, count),
    )


def build_orders(rng: np.random.Generator, users: Users) -> Orders:
    """Orders between each user's signup and the horizon, with their whole future already decided.

    The status each order has at the horizon is drawn with the spec's shares and its timestamps are made
    consistent with it, all before the horizon; an earlier snapshot sees the same order at an earlier step.
    """
    per_user = draw(rng, rules.ORDERS_PER_USER, len(users.created))
    user = np.repeat(np.arange(len(per_user)), per_user)
    signup = users.created[user]
    created = signup + (rng.random(len(user)) * (HORIZON_END_US - signup)).astype(np.int64)
    by_time = np.argsort(created, kind="stable")
    user, created = user[by_time], created[by_time]
    status = draw(rng, rules.FINAL_STATUS_SHARES, len(user))
    shipped = after(
        rng, created, np.isin(status, [rules.SHIPPED, rules.COMPLETE, rules.RETURNED]), rules.MAX_DAYS_TO_SHIP
    )
    delivered = after(
        rng, shipped, np.isin(status, [rules.COMPLETE, rules.RETURNED]), rules.MAX_DAYS_TO_DELIVER
    )
    returned = after(rng, delivered, status == rules.RETURNED, rules.MAX_DAYS_TO_RETURN)
    item_count = draw(rng, rules.ITEMS_PER_ORDER, len(user))
    return Orders(
        user=user,
        created=created,
        final_status=status,
        shipped=shipped,
        delivered=delivered,
        returned=returned,
        item_count=item_count,
        first_item=np.cumsum(item_count) - item_count,
    )


def build_items(rng: np.random.Generator, orders: Orders, users: Users, catalog: Catalog) -> Items:
    """Order items, grouped by order; each buys a product of the buyer's department (M: Men, F: Women).

    An item is put in the basket up to 4 hours before its order, but never before the buyer signed up.
    """
    order = np.repeat(np.arange(len(orders.created)), orders.item_count)
    user = orders.user[order]
    order_created = orders.created[order]
    room = np.minimum(
        rules.MAX_HOURS_ITEM_BEFORE_ORDER * rules.MICROSECONDS_PER_HOUR, order_created - users.created[user]
    )
    created = order_created - (rng.random(len(order)) * room).astype(np.int64)
    women_products, men_products = np.flatnonzero(catalog.women), np.flatnonzero(~catalog.women)
    product = np.where(
        users.gender[user] == FEMALE,
        women_products[rng.integers(0, len(women_products), len(order))],
        men_products[rng.integers(0, len(men_products), len(order))],
    )
    return Items(order=order, created=created, product=product)


def build_inventory(rng: np.random.Generator, items: Items, orders: Orders) -> Inventory:
    """The stock row each item sold (stocked 0-60 days before the sale) plus 1-3 unsold rows per item,
    sorted by creation."""
    sale = orders.created[items.order]
    sold_created = sale - random_delay(
        rng, len(sale), rules.MAX_DAYS_STOCK_BEFORE_SALE * rules.MICROSECONDS_PER_DAY
    )
    unsold_per_item = draw(rng, rules.UNSOLD_STOCK_PER_SOLD_ITEM, len(sale))
    unsold_product = np.repeat(items.product, unsold_per_item)
    unsold_created = rng.integers(
        start_of_day_us(rules.UNSOLD_STOCK_START), HORIZON_END_US, len(unsold_product)
    )
    created = np.concatenate([sold_created, unsold_created])
    by_time = np.argsort(created, kind="stable")
    position_of = np.empty_like(by_time)
    position_of[by_time] = np.arange(len(by_time))
    return Inventory(
        product=np.concatenate([items.product, unsold_product])[by_time],
        created=created[by_time],
        sold=np.concatenate([sale, np.full(len(unsold_product), NEVER)])[by_time],
        row_of_item=position_of[: len(sale)],
    )


def expand(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sessions of the given lengths: each event's session and its 0-based position in it."""
    session = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return session, np.arange(len(session)) - starts[session]


def offsets_within_sessions(gaps: np.ndarray, session: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Running sum of the gaps inside each session, starting at 0 on its first event."""
    gaps = np.where(position == 0, 0, gaps)
    running = np.cumsum(gaps)
    first_event = np.flatnonzero(position == 0)
    return running - running[first_event][session]


@dataclass(frozen=True)
class SessionEvents:
    """The events of one kind of session (purchase or ghost), before all kinds are merged."""

    session: np.ndarray
    position: np.ndarray
    created: np.ndarray
    event_type: np.ndarray
    product: np.ndarray


def purchase_session_events(rng: np.random.Generator, orders: Orders, items: Items) -> SessionEvents:
    """One session per order item, from basket time to order time: home, then department -> product ->
    cart for every item of the order, then purchase. Its events stay between the item's and the
    order's creation, so the user has signed up and a snapshot that holds the order holds them all."""
    item_count = orders.item_count[items.order]
    session, position = expand(2 + 3 * item_count)
    last = position == 1 + 3 * item_count[session]
    middle = (position > 0) & ~last
    step = np.maximum(position - 1, 0)
    browsing = np.array([rules.DEPARTMENT, rules.PRODUCT, rules.CART])[step % 3]
    event_type = np.where(position == 0, rules.HOME, np.where(last, rules.PURCHASE, browsing))
    basket_item = np.where(middle, orders.first_item[items.order[session]] + step // 3, 0)
    start, end = items.created, orders.created[items.order]
    offsets = offsets_within_sessions(rng.random(len(session)), session, position)
    share_of_session = offsets / offsets[last][session]
    return SessionEvents(
        session=session,
        position=position,
        created=start[session] + (share_of_session * (end - start)[session]).astype(np.int64),
        event_type=event_type,
        product=np.where(middle, items.product[basket_item], -1),
    )


def ghost_session_events(rng: np.random.Generator, users: Users, product_count: int) -> SessionEvents:
    """Five anonymous sessions per user, each one of the four ghost patterns, after the user's signup
    (or, for a signup minutes before the horizon, ending at the horizon: ghosts have no user_id)."""
    patterns = list(rules.GHOST_PATTERNS)
    lengths = np.array([len(pattern) for pattern in patterns])
    steps = np.full((len(patterns), lengths.max()), -1)
    for row, pattern in enumerate(patterns):
        steps[row, : len(pattern)] = pattern
    count = len(users.created) * rules.GHOST_SESSIONS_PER_USER
    pattern = draw_index(rng, rules.GHOST_PATTERNS, count)
    session, position = expand(lengths[pattern])
    event_type = steps[pattern[session], position]
    low, high = (seconds * rules.MICROSECONDS_PER_SECOND for seconds in rules.GHOST_CLICK_GAP_SECONDS)
    offsets = offsets_within_sessions(rng.integers(low, high, len(session)), session, position)
    duration = np.zeros(count, dtype=np.int64)
    np.maximum.at(duration, session, offsets)
    signup = np.repeat(users.created, rules.GHOST_SESSIONS_PER_USER)
    room = np.maximum(HORIZON_END_US - signup - duration, 0)
    start = np.minimum(signup + (rng.random(count) * room).astype(np.int64), HORIZON_END_US - duration)
    about_a_product = np.isin(event_type, [rules.DEPARTMENT, rules.PRODUCT, rules.CART])
    return SessionEvents(
        session=session,
        position=position,
        created=start[session] + offsets,
        event_type=event_type,
        product=np.where(about_a_product, rng.integers(0, product_count, count)[session], -1),
    )


def build_events(
    rng: np.random.Generator, users: Users, orders: Orders, items: Items, catalog: Catalog
) -> tuple[Sessions, Events]:
    """All sessions (purchase ones first, then ghosts) and their events, sorted by time."""
    purchase = purchase_session_events(rng, orders, items)
    ghost = ghost_session_events(rng, users, catalog.count)
    purchase_sessions = len(items.order)
    session_count = purchase_sessions + len(users.created) * rules.GHOST_SESSIONS_PER_USER
    ip_octets = rng.integers(0, 256, (session_count, 4))
    ip_octets[:, 0] = rng.integers(1, 224, session_count)
    sessions = Sessions(
        user=np.concatenate(
            [
                orders.user[items.order],
                np.repeat(np.arange(len(users.created)), rules.GHOST_SESSIONS_PER_USER),
            ]
        ),
        ghost=np.arange(session_count) >= purchase_sessions,
        browser=draw_index(rng, rules.BROWSERS, session_count),
        traffic_source=draw_index(rng, rules.EVENT_TRAFFIC_SOURCES, session_count),
        ip_octets=ip_octets,
        uuid_nibbles=random_nibbles(rng, session_count, UUID_NIBBLES),
    )
    session = np.concatenate([purchase.session, ghost.session + purchase_sessions])
    position = np.concatenate([purchase.position, ghost.position])
    created = np.concatenate([purchase.created, ghost.created])
    by_time = np.lexsort((position, session, created))
    events = Events(
        session=session[by_time],
        position=position[by_time],
        created=created[by_time],
        event_type=np.concatenate([purchase.event_type, ghost.event_type])[by_time],
        product=np.concatenate([purchase.product, ghost.product])[by_time],
    )
    return sessions, events
