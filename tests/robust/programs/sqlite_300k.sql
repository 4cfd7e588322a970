-- sqlite3 workload for the real-program test: a database of 300k rows built, indexed and
-- queried (joins, group by, sort, text functions). Output must not depend on the allocator.
PRAGMA journal_mode = WAL;
PRAGMA cache_size = -65536;
CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, city INTEGER, score REAL, note TEXT);
CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 199)
INSERT INTO cities SELECT i, 'city-' || i || '-' || substr('abcdefghijklmnopqrstuvwxyz', i % 26 + 1) FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000)
INSERT INTO people
SELECT i, 'person' || (i * 7919 % 300007), i % 200, (i * 37 % 1000) / 10.0,
       printf('%.*c', i % 120, 'x') || i
FROM c;
CREATE INDEX people_city ON people(city, score);
CREATE INDEX people_name ON people(name);
SELECT count(*), sum(score), max(length(note)) FROM people;
SELECT c.name, count(*), round(avg(p.score), 3), max(p.name)
  FROM people p JOIN cities c ON c.id = p.city
  GROUP BY c.id ORDER BY count(*) DESC, c.name LIMIT 10;
SELECT name, score FROM people WHERE city = 42 ORDER BY score DESC, id LIMIT 5;
SELECT count(DISTINCT name) FROM people;
SELECT group_concat(id, ',') FROM (SELECT id FROM people ORDER BY note DESC LIMIT 40);
UPDATE people SET note = upper(note) || '!' WHERE id % 3 = 0;
DELETE FROM people WHERE id % 7 = 0;
SELECT count(*), sum(length(note)) FROM people;
CREATE TABLE summary AS SELECT city, count(*) AS n, sum(score) AS s FROM people GROUP BY city;
SELECT sum(n), round(sum(s), 2) FROM summary;
PRAGMA integrity_check;
