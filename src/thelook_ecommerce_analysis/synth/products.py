"""The product catalogue: 29,120 products, the same for every number of users.

Products are drawn from their own random stream (seed + "products"), so the catalogue depends only on
the seed: two data sets of different sizes share their products, as two theLook snapshots do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from thelook_ecommerce_analysis.synth.catalog_reference import (
    CATEGORY_BRANDS,
    CATEGORY_NOUNS,
    CATEGORY_PLANS,
    DISTRIBUTION_CENTERS,
    NAME_COLOURS,
    NAME_MODIFIERS,
    CategoryPlan,
)
from thelook_ecommerce_analysis.synth.schema import TABLE_SCHEMAS
from thelook_ecommerce_analysis.synth.text import (
    concatenate,
    decode,
    hex_text,
    integers_as_text,
    random_nibbles,
)

PRICE_SPREAD = 0.5  # sigma of the log-normal retail price around a category's median
MIN_RETAIL_PRICE, MAX_RETAIL_PRICE = 1.5, 999.0
COST_SHARE_OF_RETAIL = (0.4, 0.6)
SKU_HEX_DIGITS = 32


@dataclass(frozen=True)
class Catalog:
    """The products table plus what the timeline needs to pick products and build uris."""

    table: pa.Table
    women: np.ndarray  # bool per product: department Women (bought by F users), else Men
    department_uri: pa.StringArray  # /department/<dept>/category/<cat>/brand/<brand> per product

    @property
    def count(self) -> int:
        return self.table.num_rows


def distribution_centers_table() -> pa.Table:
    """theLook's ten distribution centers with their real coordinates."""
    return pa.Table.from_pydict(
        {
            "id": list(range(1, len(DISTRIBUTION_CENTERS) + 1)),
            "name": [center.name for center in DISTRIBUTION_CENTERS],
            "latitude": [center.latitude for center in DISTRIBUTION_CENTERS],
            "longitude": [center.longitude for center in DISTRIBUTION_CENTERS],
        },
        schema=TABLE_SCHEMAS["distribution_centers"],
    )


def uri_slug(text: str) -> str:
    """How theLook writes a department, category or brand inside a uri: lower case, no spaces."""
    return text.lower().replace(" ", "")


def build_catalog(rng: np.random.Generator) -> Catalog:
    """All products, category after category, with ids 1..29,120 in that order."""
    parts = [_category_products(rng, plan) for plan in CATEGORY_PLANS]
    count = sum(len(part["retail_price"]) for part in parts)
    retail_price = np.concatenate([part["retail_price"] for part in parts])
    low, high = COST_SHARE_OF_RETAIL
    columns = {
        "id": pa.array(np.arange(1, count + 1, dtype=np.int64)),
        "cost": pa.array(retail_price * rng.uniform(low, high, count)),
        "category": _concat(parts, "category"),
        "name": _concat(parts, "name"),
        "brand": _concat(parts, "brand"),
        "retail_price": pa.array(retail_price),
        "department": _concat(parts, "department"),
        "sku": hex_text(random_nibbles(rng, count, SKU_HEX_DIGITS)),
        "distribution_center_id": pa.array(
            rng.integers(1, len(DISTRIBUTION_CENTERS) + 1, count, dtype=np.int64)
        ),
    }
    return Catalog(
        table=pa.Table.from_pydict(columns, schema=TABLE_SCHEMAS["products"]),
        women=np.concatenate([np.full(plan.products, plan.department == "Women") for plan in CATEGORY_PLANS]),
        department_uri=_concat(parts, "department_uri"),
    )


def _concat(parts: list[dict], column: str) -> pa.StringArray:
    return pa.concat_arrays([part[column] for part in parts])


def _category_products(rng: np.random.Generator, plan: CategoryPlan) -> dict:
    """Names, brands, prices and uris of one department/category's products."""
    count = plan.products
    brands = CATEGORY_BRANDS[plan.category]
    brand_index = rng.integers(0, len(brands), count)
    brand = decode(brands, brand_index)
    modifiers = [f"{word} " if word else "" for word in NAME_MODIFIERS]
    possessive = f"{plan.department}'s "
    name = concatenate(
        brand,
        " ",
        possessive,
        decode(modifiers, rng.integers(0, len(modifiers), count)),
        decode(CATEGORY_NOUNS[plan.category], rng.integers(0, len(CATEGORY_NOUNS[plan.category]), count)),
        decode(NAME_COLOURS, rng.integers(0, len(NAME_COLOURS), count)),
    )
    price = plan.median_price * rng.lognormal(0.0, PRICE_SPREAD, count)
    prefix = f"/department/{uri_slug(plan.department)}/category/{uri_slug(plan.category)}/brand/"
    constant = np.zeros(count, dtype=np.int64)
    return {
        "category": decode([plan.category], constant),
        "department": decode([plan.department], constant),
        "brand": brand,
        "name": name,
        "retail_price": np.round(np.clip(price, MIN_RETAIL_PRICE, MAX_RETAIL_PRICE), 2),
        "department_uri": concatenate(prefix, decode([uri_slug(b) for b in brands], brand_index)),
    }


def product_uri(product_index: np.ndarray) -> pa.StringArray:
    """/product/<id> for product positions (id = position + 1)."""
    return concatenate("/product/", integers_as_text(product_index + 1))
