"""theLook's behavioural rules as numbers: who orders how much, how orders move, how people browse.

Each weight comes from ../shared/thelook_spec.md. Two are calibrated rather than quoted, so that 100,000
users give the public snapshot's sizes: the unsold stock per sold item (spec: "1-3"; weights chosen for
~491k inventory rows) and the mix of ghost-session patterns (spec lists the four patterns; weights
chosen for ~2.43M events). The timeline runs from `TIMELINE_START` to the end of `HORIZON`: fixing the
horizon per release makes one seed one history, which any as-of date can cut.
"""

from __future__ import annotations

from datetime import date

import numpy as np

TIMELINE_START = date(2019, 1, 1)
HORIZON = date(2026, 12, 31)
UNSOLD_STOCK_START = date(2020, 1, 1)

MICROSECONDS_PER_SECOND = 1_000_000
MICROSECONDS_PER_HOUR = 3600 * MICROSECONDS_PER_SECOND
MICROSECONDS_PER_DAY = 24 * MICROSECONDS_PER_HOUR
# A timestamp that never happens: an order that is never shipped has shipped_at = NEVER.
NEVER = np.iinfo(np.int64).max

RECENT_SIGNUP_SHARE = 0.025
RECENT_SIGNUP_DAYS = 7

ORDERS_PER_USER = {0: 0.20, 1: 0.50, 2: 0.20, 3: 0.05, 4: 0.05}
ITEMS_PER_ORDER = {1: 0.70, 2: 0.20, 3: 0.05, 4: 0.05}

# Final statuses (what an order ends up as at the horizon); codes index STATUS_NAMES.
STATUS_NAMES = ("Processing", "Shipped", "Complete", "Returned", "Cancelled")
PROCESSING, SHIPPED, COMPLETE, RETURNED, CANCELLED = range(len(STATUS_NAMES))
FINAL_STATUS_SHARES = {COMPLETE: 0.25, SHIPPED: 0.30, PROCESSING: 0.20, CANCELLED: 0.15, RETURNED: 0.10}
MAX_DAYS_TO_SHIP = 3
MAX_DAYS_TO_DELIVER = 5
MAX_DAYS_TO_RETURN = 3
MAX_HOURS_ITEM_BEFORE_ORDER = 4
MAX_DAYS_STOCK_BEFORE_SALE = 60
UNSOLD_STOCK_PER_SOLD_ITEM = {1: 0.49, 2: 0.31, 3: 0.20}

GENDERS = ("M", "F")
MIN_AGE, MAX_AGE = 12, 70
USER_TRAFFIC_SOURCES = {"Search": 0.70, "Organic": 0.15, "Facebook": 0.06, "Email": 0.05, "Display": 0.04}
EVENT_TRAFFIC_SOURCES = {"Email": 0.45, "Adwords": 0.30, "YouTube": 0.10, "Facebook": 0.10, "Organic": 0.05}
BROWSERS = {"Chrome": 0.50, "Safari": 0.20, "Firefox": 0.20, "IE": 0.05, "Other": 0.05}

EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
HOME, DEPARTMENT, PRODUCT, CART, PURCHASE, CANCEL = range(len(EVENT_TYPES))
GHOST_SESSIONS_PER_USER = 5
GHOST_PATTERNS: dict[tuple[int, ...], float] = {
    (PRODUCT, CART, CANCEL): 0.20,
    (DEPARTMENT, PRODUCT, CART): 0.20,
    (PRODUCT,): 0.32,
    (DEPARTMENT, PRODUCT): 0.28,
}
# Seconds between two clicks of a ghost session.
GHOST_CLICK_GAP_SECONDS = (10, 300)


def probabilities(weights: dict) -> np.ndarray:
    """A weight table's weights, normalised to sum to exactly 1 (as numpy's choice demands)."""
    values = np.array(list(weights.values()), dtype=float)
    return values / values.sum()
