-- Users and their orders. Ids are handed out in increasing order, which is
-- what keyset pagination (WHERE id > cursor ORDER BY id) relies on.
CREATE TABLE users (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  email      TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  created_at INTEGER NOT NULL -- Unix seconds
);
-- The source of truth for "email already in use": no check-then-insert race.
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_status_id ON users (status, id);

CREATE TABLE orders (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  items      TEXT    NOT NULL, -- JSON array of {product_id, quantity, price}
  total      REAL    NOT NULL,
  status     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX orders_user_id_id ON orders (user_id, id);

-- Ids start at 1001 (users) and 5001 (orders), so that they look like ids.
INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1000), ('orders', 5000);
