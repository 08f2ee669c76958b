-- A few users, so that the first request shows something. As a migration,
-- the seed runs once: users deleted later stay deleted across restarts.
INSERT INTO users (email, name, status, created_at) VALUES
  ('jane@example.com', 'Jane Smith', 'active', CAST(strftime('%s', 'now') AS INTEGER)),
  ('john@example.com', 'John Doe', 'active', CAST(strftime('%s', 'now') AS INTEGER)),
  ('ada@example.com', 'Ada Lovelace', 'inactive', CAST(strftime('%s', 'now') AS INTEGER));
