-- cutover:phase expand
-- The demo's first table: each version records the greetings it sends.
CREATE TABLE greetings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- cutover:down
DROP TABLE greetings;
