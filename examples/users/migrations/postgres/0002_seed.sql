-- A few users, so that the first request shows something. As a migration,
-- the seed runs once: users deleted later stay deleted across restarts.
INSERT INTO users (email, name, status, created_at) VALUES
  ('jane@example.com', 'Jane Smith', 'active', EXTRACT(EPOCH FROM now())::BIGINT),
  ('john@example.com', 'John Doe', 'active', EXTRACT(EPOCH FROM now())::BIGINT),
  ('ada@example.com', 'Ada Lovelace', 'inactive', EXTRACT(EPOCH FROM now())::BIGINT);
