-- Users and their orders. Ids are handed out in increasing order, which is
-- what keyset pagination (WHERE id > cursor ORDER BY id) relies on.
CREATE TABLE users (
  id         BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 1001) PRIMARY KEY,
  email      TEXT   NOT NULL,
  name       TEXT   NOT NULL,
  status     TEXT   NOT NULL,
  created_at BIGINT NOT NULL -- Unix seconds
);
-- The source of truth for "email already in use": no check-then-insert race.
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_status_id ON users (status, id);

CREATE TABLE orders (
  id         BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 5001) PRIMARY KEY,
  user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  items      TEXT   NOT NULL, -- JSON array of {product_id, quantity, price}
  total      DOUBLE PRECISION NOT NULL,
  status     TEXT   NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX orders_user_id_id ON orders (user_id, id);
