"""Cut a timeline "as of" a moment into the seven theLook tables.

Every table of the timeline is sorted by creation time and ids are positions + 1, so the rows created
up to the cut-off are a prefix of each table (order items follow their order, which is created after
them). In a snapshot, a timestamp later than the cut-off is NULL and an order's status is the last
step it has reached: Processing -> Shipped -> Complete -> Returned (Cancelled is decided when the order
is placed). Stock sold after the cut-off shows sold_at NULL. Hence a later snapshot of the same
timeline keeps every id of an earlier one, and only adds rows or moves statuses forward.

Columns are built lazily, one callable per column, so that the writer can show progress per column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thelook_ecommerce_analysis.synth import rules
from thelook_ecommerce_analysis.synth.people_reference import (
    CITIES,
    EMAIL_DOMAINS,
    LAST_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
)
from thelook_ecommerce_analysis.synth.products import distribution_centers_table, product_uri
from thelook_ecommerce_analysis.synth.schema import TIMESTAMP
from thelook_ecommerce_analysis.synth.text import (
    concatenate,
    decode,
    integers_as_text,
    uuid_text,
)
from thelook_ecommerce_analysis.synth.timeline import COUNTRY_NAMES, FIRST_NAMES, Timeline

ColumnFactories = dict[str, Callable[[], pa.Array]]
FIXED_URIS = {rules.HOME: "/home", rules.CART: "/cart", rules.PURCHASE: "/purchase", rules.CANCEL: "/cancel"}


def columns_of(table: pa.Table) -> ColumnFactories:
    """Factories for the columns of a table that is already built."""
    return {name: table.column(name).combine_chunks for name in table.column_names}


def ids(count: int) -> pa.Array:
    return pa.array(np.arange(1, count + 1, dtype=np.int64))


def status_as_of(cancelled: np.ndarray, shipped, delivered, returned, cutoff: int) -> np.ndarray:
    """The status code each order has reached by `cutoff`, from which of its steps have happened."""
    reached = np.select(
        [returned <= cutoff, delivered <= cutoff, shipped <= cutoff],
        [rules.RETURNED, rules.COMPLETE, rules.SHIPPED],
        default=rules.PROCESSING,
    )
    return np.where(cancelled, rules.CANCELLED, reached)


@dataclass(frozen=True)
class Snapshot:
    """The timeline as it stood at `cutoff` (microseconds since the epoch, UTC, inclusive)."""

    timeline: Timeline
    cutoff: int

    def timestamps(self, values: np.ndarray) -> pa.Array:
        """Times as timestamp[us, UTC], NULL where they fall after the cut-off (or never happen)."""
        return pa.array(values, type=TIMESTAMP, mask=values > self.cutoff)

    def created_up_to_cutoff(self, created: np.ndarray) -> int:
        """How many rows of a creation-sorted table exist at the cut-off."""
        return int(np.searchsorted(created, self.cutoff, side="right"))

    @cached_property
    def user_count(self) -> int:
        return self.created_up_to_cutoff(self.timeline.users.created)

    @cached_property
    def order_count(self) -> int:
        return self.created_up_to_cutoff(self.timeline.orders.created)

    @cached_property
    def item_count(self) -> int:
        """Items exist with their order, so they are those of the first `order_count` orders."""
        return int(self.timeline.orders.item_count[: self.order_count].sum())

    @cached_property
    def order_status(self) -> np.ndarray:
        orders, count = self.timeline.orders, self.order_count
        return status_as_of(
            orders.final_status[:count] == rules.CANCELLED,
            orders.shipped[:count],
            orders.delivered[:count],
            orders.returned[:count],
            self.cutoff,
        )

    def columns(self, table: str) -> ColumnFactories:
        builders: dict[str, Callable[[], ColumnFactories]] = {
            "distribution_centers": self.distribution_centers,
            "products": self.products,
            "users": self.users,
            "orders": self.orders,
            "order_items": self.order_items,
            "inventory_items": self.inventory_items,
            "events": self.events,
        }
        return builders[table]()

    def distribution_centers(self) -> ColumnFactories:
        return columns_of(distribution_centers_table())

    def products(self) -> ColumnFactories:
        """The whole catalogue, whatever the date: theLook's products have no creation time."""
        return columns_of(self.timeline.catalog.table)

    def users(self) -> ColumnFactories:
        users, n = self.timeline.users, self.user_count
        city = users.city[:n]
        first_name = decode(FIRST_NAMES, users.first_name[:n])
        last_name = decode(LAST_NAMES, users.last_name[:n])

        def email() -> pa.Array:
            return concatenate(
                pc.utf8_lower(first_name),
                pc.utf8_lower(last_name),
                decode(EMAIL_DOMAINS, users.email_domain[:n]),
            )

        return {
            "id": lambda: ids(n),
            "first_name": lambda: first_name,
            "last_name": lambda: last_name,
            "email": email,
            "age": lambda: pa.array(users.age[:n]),
            "gender": lambda: decode(rules.GENDERS, users.gender[:n]),
            "state": lambda: decode([c.state for c in CITIES], city),
            "street_address": lambda: concatenate(
                integers_as_text(users.street_number[:n]),
                " ",
                decode(STREET_NAMES, users.street_name[:n]),
                " ",
                decode(STREET_SUFFIXES, users.street_suffix[:n]),
            ),
            "postal_code": lambda: decode([c.postal_code for c in CITIES], city),
            "city": lambda: decode([c.city for c in CITIES], city),
            "country": lambda: decode(COUNTRY_NAMES, users.country[:n]),
            "latitude": lambda: pa.array(users.latitude[:n]),
            "longitude": lambda: pa.array(users.longitude[:n]),
            "traffic_source": lambda: decode(list(rules.USER_TRAFFIC_SOURCES), users.traffic_source[:n]),
            "created_at": lambda: self.timestamps(users.created[:n]),
        }

    def orders(self) -> ColumnFactories:
        orders, n = self.timeline.orders, self.order_count
        gender = self.timeline.users.gender
        return {
            "order_id": lambda: ids(n),
            "user_id": lambda: pa.array(orders.user[:n] + 1),
            "status": lambda: decode(rules.STATUS_NAMES, self.order_status),
            "gender": lambda: decode(rules.GENDERS, gender[orders.user[:n]]),
            "created_at": lambda: self.timestamps(orders.created[:n]),
            "returned_at": lambda: self.timestamps(orders.returned[:n]),
            "shipped_at": lambda: self.timestamps(orders.shipped[:n]),
            "delivered_at": lambda: self.timestamps(orders.delivered[:n]),
            "num_of_item": lambda: pa.array(orders.item_count[:n]),
        }

    def order_items(self) -> ColumnFactories:
        timeline, n = self.timeline, self.item_count
        items, orders = timeline.items, timeline.orders
        order = items.order[:n]
        retail_price = timeline.catalog.table.column("retail_price").combine_chunks()
        return {
            "id": lambda: ids(n),
            "order_id": lambda: pa.array(order + 1),
            "user_id": lambda: pa.array(orders.user[order] + 1),
            "product_id": lambda: pa.array(items.product[:n] + 1),
            "inventory_item_id": lambda: pa.array(timeline.inventory.row_of_item[:n] + 1),
            "status": lambda: decode(rules.STATUS_NAMES, self.order_status[order]),
            "created_at": lambda: self.timestamps(items.created[:n]),
            "shipped_at": lambda: self.timestamps(orders.shipped[order]),
            "delivered_at": lambda: self.timestamps(orders.delivered[order]),
            "returned_at": lambda: self.timestamps(orders.returned[order]),
            "sale_price": lambda: retail_price.take(pa.array(items.product[:n])),
        }

    def inventory_items(self) -> ColumnFactories:
        inventory = self.timeline.inventory
        n = self.created_up_to_cutoff(inventory.created)
        product = pa.array(inventory.product[:n])
        products = self.timeline.catalog.table

        def copy(column: str) -> Callable[[], pa.Array]:
            return lambda: products.column(column).combine_chunks().take(product)

        return {
            "id": lambda: ids(n),
            "product_id": lambda: pa.array(inventory.product[:n] + 1),
            "created_at": lambda: self.timestamps(inventory.created[:n]),
            "sold_at": lambda: self.timestamps(inventory.sold[:n]),
            "cost": copy("cost"),
            "product_category": copy("category"),
            "product_name": copy("name"),
            "product_brand": copy("brand"),
            "product_retail_price": copy("retail_price"),
            "product_department": copy("department"),
            "product_sku": copy("sku"),
            "product_distribution_center_id": copy("distribution_center_id"),
        }

    def events(self) -> ColumnFactories:
        events, sessions = self.timeline.events, self.timeline.sessions
        n = self.created_up_to_cutoff(events.created)
        session = events.session[:n]
        city = self.timeline.users.city[sessions.user[session]]
        return {
            "id": lambda: ids(n),
            "user_id": lambda: pa.array(sessions.user[session] + 1, mask=sessions.ghost[session]),
            "sequence_number": lambda: pa.array(events.position[:n] + 1),
            "session_id": lambda: uuid_text(sessions.uuid_nibbles).take(pa.array(session)),
            "created_at": lambda: self.timestamps(events.created[:n]),
            "ip_address": lambda: self.ip_addresses().take(pa.array(session)),
            "city": lambda: decode([c.city for c in CITIES], city),
            "state": lambda: decode([c.state for c in CITIES], city),
            "postal_code": lambda: decode([c.postal_code for c in CITIES], city),
            "browser": lambda: decode(list(rules.BROWSERS), sessions.browser[session]),
            "traffic_source": lambda: decode(
                list(rules.EVENT_TRAFFIC_SOURCES), sessions.traffic_source[session]
            ),
            "uri": lambda: self.uris(n),
            "event_type": lambda: decode(rules.EVENT_TYPES, events.event_type[:n]),
        }

    def ip_addresses(self) -> pa.Array:
        """One IPv4 address per session, as dotted text."""
        octets = self.timeline.sessions.ip_octets
        parts = [integers_as_text(octets[:, column]) for column in range(4)]
        return concatenate(parts[0], ".", parts[1], ".", parts[2], ".", parts[3])

    def uris(self, count: int) -> pa.Array:
        """Each event's page: fixed pages by type, /product/<id>, or the product's department page.

        All possible uris form one vocabulary (fixed pages, then one product page and one department
        page per product), so an event's uri is a single `take`.
        """
        events, catalog = self.timeline.events, self.timeline.catalog
        event_type, product = events.event_type[:count], events.product[:count]
        fixed = list(FIXED_URIS.values())
        fixed_index = np.zeros(len(rules.EVENT_TYPES), dtype=np.int64)
        fixed_index[list(FIXED_URIS)] = np.arange(len(fixed))
        vocabulary = pa.concat_arrays(
            [pa.array(fixed, type=pa.string()), product_uri(np.arange(catalog.count)), catalog.department_uri]
        )
        index = np.select(
            [event_type == rules.PRODUCT, event_type == rules.DEPARTMENT],
            [len(fixed) + product, len(fixed) + catalog.count + product],
            default=fixed_index[event_type],
        )
        return vocabulary.take(pa.array(index))
