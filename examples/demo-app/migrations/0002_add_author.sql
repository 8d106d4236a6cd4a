-- cutover:phase expand
-- 2.0.0 records who sent each greeting. The column is nullable, so 1.0.0, which does not know it,
-- keeps inserting rows while 2.0.0 serves.
ALTER TABLE greetings ADD COLUMN author text;

-- cutover:down
ALTER TABLE greetings DROP COLUMN author;
