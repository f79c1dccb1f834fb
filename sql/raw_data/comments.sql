-- Plain-English descriptions of theLook's tables and columns. They are the raw tables' documentation in the
-- database, and the embeddings pipeline turns them into retrieval documents for the question-answering app.

COMMENT ON TABLE raw_data.distribution_centers IS 'The 10 US distribution centers (warehouses) that ship products; one row per center.';
COMMENT ON COLUMN raw_data.distribution_centers.id IS 'Distribution center id (primary key); products.distribution_center_id refers to it.';
COMMENT ON COLUMN raw_data.distribution_centers.name IS 'City and state of the distribution center, e.g. Memphis TN.';
COMMENT ON COLUMN raw_data.distribution_centers.latitude IS 'Latitude of the distribution center, in degrees.';
COMMENT ON COLUMN raw_data.distribution_centers.longitude IS 'Longitude of the distribution center, in degrees.';

COMMENT ON TABLE raw_data.products IS 'The product catalog (about 29,000 clothing products): one row per product with its brand, category, department, cost and retail price.';
COMMENT ON COLUMN raw_data.products.id IS 'Product id (primary key).';
COMMENT ON COLUMN raw_data.products.cost IS 'What the product costs the shop, in US dollars (about 40-60% of the retail price).';
COMMENT ON COLUMN raw_data.products.category IS 'Product category, e.g. Jeans, Intimates, Swim, Outerwear & Coats.';
COMMENT ON COLUMN raw_data.products.name IS 'Product name.';
COMMENT ON COLUMN raw_data.products.brand IS 'Brand of the product.';
COMMENT ON COLUMN raw_data.products.retail_price IS 'List price in US dollars; order_items.sale_price equals it (no discounts).';
COMMENT ON COLUMN raw_data.products.department IS 'Department: Men or Women.';
COMMENT ON COLUMN raw_data.products.sku IS 'Stock keeping unit code of the product.';
COMMENT ON COLUMN raw_data.products.distribution_center_id IS 'The distribution center that ships this product (distribution_centers.id).';

COMMENT ON TABLE raw_data.users IS 'Customers (registered users): one row per user with demographics, location, signup date and acquisition traffic source.';
COMMENT ON COLUMN raw_data.users.id IS 'User id (primary key); orders.user_id, order_items.user_id and events.user_id refer to it.';
COMMENT ON COLUMN raw_data.users.first_name IS 'First name of the user.';
COMMENT ON COLUMN raw_data.users.last_name IS 'Last name of the user.';
COMMENT ON COLUMN raw_data.users.email IS 'Email address of the user.';
COMMENT ON COLUMN raw_data.users.age IS 'Age of the user in years (12 to 70).';
COMMENT ON COLUMN raw_data.users.gender IS 'Gender of the user: M (male) or F (female).';
COMMENT ON COLUMN raw_data.users.state IS 'State, province or region where the user lives.';
COMMENT ON COLUMN raw_data.users.street_address IS 'Street address of the user.';
COMMENT ON COLUMN raw_data.users.postal_code IS 'Postal (zip) code of the user.';
COMMENT ON COLUMN raw_data.users.city IS 'City where the user lives.';
COMMENT ON COLUMN raw_data.users.country IS 'Country where the user lives, e.g. China, United States, Brasil, South Korea, France.';
COMMENT ON COLUMN raw_data.users.latitude IS 'Latitude of the user''s address, in degrees.';
COMMENT ON COLUMN raw_data.users.longitude IS 'Longitude of the user''s address, in degrees.';
COMMENT ON COLUMN raw_data.users.traffic_source IS 'Acquisition channel that brought the user to sign up: Search, Organic, Facebook, Email or Display (differs from events.traffic_source, the per-session source).';
COMMENT ON COLUMN raw_data.users.created_at IS 'When the user signed up (UTC).';

COMMENT ON TABLE raw_data.orders IS 'Customer orders: one row per order with its status and fulfilment timestamps.';
COMMENT ON COLUMN raw_data.orders.order_id IS 'Order id (primary key); order_items.order_id refers to it.';
COMMENT ON COLUMN raw_data.orders.user_id IS 'The customer who placed the order (users.id).';
COMMENT ON COLUMN raw_data.orders.status IS 'Order status: Processing, Shipped, Complete (delivered), Cancelled or Returned.';
COMMENT ON COLUMN raw_data.orders.gender IS 'Gender of the customer (copied from users.gender): M or F.';
COMMENT ON COLUMN raw_data.orders.created_at IS 'When the order was placed (UTC): the order date.';
COMMENT ON COLUMN raw_data.orders.returned_at IS 'When the order was returned (UTC); NULL unless status is Returned.';
COMMENT ON COLUMN raw_data.orders.shipped_at IS 'When the order was shipped (UTC); NULL for Processing and Cancelled orders.';
COMMENT ON COLUMN raw_data.orders.delivered_at IS 'When the order was delivered (UTC); set only for Complete and Returned orders.';
COMMENT ON COLUMN raw_data.orders.num_of_item IS 'Number of items (order_items rows) in the order.';

COMMENT ON TABLE raw_data.order_items IS 'Order lines: one row per item sold, with its product, sale price and status; the basis of revenue (sum of sale_price).';
COMMENT ON COLUMN raw_data.order_items.id IS 'Order item id (primary key).';
COMMENT ON COLUMN raw_data.order_items.order_id IS 'The order this item belongs to (orders.order_id).';
COMMENT ON COLUMN raw_data.order_items.user_id IS 'The customer who bought the item (users.id).';
COMMENT ON COLUMN raw_data.order_items.product_id IS 'The product sold (products.id).';
COMMENT ON COLUMN raw_data.order_items.inventory_item_id IS 'The physical stock unit sold (inventory_items.id).';
COMMENT ON COLUMN raw_data.order_items.status IS 'Status of the item, the same as its order: Processing, Shipped, Complete, Cancelled or Returned.';
COMMENT ON COLUMN raw_data.order_items.created_at IS 'When the item was added to the order (UTC).';
COMMENT ON COLUMN raw_data.order_items.shipped_at IS 'When the item was shipped (UTC).';
COMMENT ON COLUMN raw_data.order_items.delivered_at IS 'When the item was delivered (UTC).';
COMMENT ON COLUMN raw_data.order_items.returned_at IS 'When the item was returned (UTC).';
COMMENT ON COLUMN raw_data.order_items.sale_price IS 'Price the item sold for, in US dollars (equals products.retail_price); revenue = sum of sale_price.';

COMMENT ON TABLE raw_data.inventory_items IS 'Stock units: one row per physical item received into a distribution center, sold or not, with the product''s attributes copied in.';
COMMENT ON COLUMN raw_data.inventory_items.id IS 'Inventory item id (primary key); order_items.inventory_item_id refers to it.';
COMMENT ON COLUMN raw_data.inventory_items.product_id IS 'The product this unit is (products.id).';
COMMENT ON COLUMN raw_data.inventory_items.created_at IS 'When the unit arrived in stock (UTC).';
COMMENT ON COLUMN raw_data.inventory_items.sold_at IS 'When the unit was sold (UTC); NULL while it is still in stock.';
COMMENT ON COLUMN raw_data.inventory_items.cost IS 'Cost of the unit in US dollars.';
COMMENT ON COLUMN raw_data.inventory_items.product_category IS 'Category of the product (copied from products.category).';
COMMENT ON COLUMN raw_data.inventory_items.product_name IS 'Name of the product (copied from products.name).';
COMMENT ON COLUMN raw_data.inventory_items.product_brand IS 'Brand of the product (copied from products.brand).';
COMMENT ON COLUMN raw_data.inventory_items.product_retail_price IS 'Retail price of the product in US dollars (copied from products.retail_price).';
COMMENT ON COLUMN raw_data.inventory_items.product_department IS 'Department of the product, Men or Women (copied from products.department).';
COMMENT ON COLUMN raw_data.inventory_items.product_sku IS 'SKU of the product (copied from products.sku).';
COMMENT ON COLUMN raw_data.inventory_items.product_distribution_center_id IS 'Distribution center holding the unit (distribution_centers.id).';

COMMENT ON TABLE raw_data.events IS 'Website events (clickstream): one row per page view or action in a browsing session, including anonymous sessions.';
COMMENT ON COLUMN raw_data.events.id IS 'Event id (primary key).';
COMMENT ON COLUMN raw_data.events.user_id IS 'The signed-in user (users.id); NULL for anonymous (guest) sessions.';
COMMENT ON COLUMN raw_data.events.sequence_number IS 'Position of the event within its session, from 1.';
COMMENT ON COLUMN raw_data.events.session_id IS 'Browsing session identifier; a session is the sequence of events sharing it.';
COMMENT ON COLUMN raw_data.events.created_at IS 'When the event happened (UTC).';
COMMENT ON COLUMN raw_data.events.ip_address IS 'IP address of the visitor.';
COMMENT ON COLUMN raw_data.events.city IS 'City of the visitor.';
COMMENT ON COLUMN raw_data.events.state IS 'State or region of the visitor.';
COMMENT ON COLUMN raw_data.events.postal_code IS 'Postal code of the visitor.';
COMMENT ON COLUMN raw_data.events.browser IS 'Web browser: Chrome, Safari, Firefox, IE or Other.';
COMMENT ON COLUMN raw_data.events.traffic_source IS 'Marketing source of the session: Email, Adwords, YouTube, Facebook or Organic (differs from users.traffic_source, the acquisition source).';
COMMENT ON COLUMN raw_data.events.uri IS 'Page path visited, e.g. /product/123, /cart, /purchase.';
COMMENT ON COLUMN raw_data.events.event_type IS 'Kind of event: home, department, product, cart, purchase or cancel.';
