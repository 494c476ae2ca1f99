DROP TABLE obligations;
DROP TABLE holidays;
DROP TABLE categories;
DROP TABLE unit_successors;
DROP TABLE units;
