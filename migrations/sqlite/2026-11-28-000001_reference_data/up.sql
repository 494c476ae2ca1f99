CREATE TABLE units (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('department', 'district')),
    is_standing_agency BOOLEAN NOT NULL DEFAULT 0,
    fields TEXT NOT NULL DEFAULT '[]',
    active BOOLEAN NOT NULL DEFAULT 1,
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);

CREATE TABLE unit_successors (
    unit_code TEXT NOT NULL REFERENCES units (code),
    successor_code TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (unit_code, successor_code),
    CHECK (unit_code <> successor_code)
);

CREATE TABLE categories (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    mandatory BOOLEAN NOT NULL DEFAULT 0,
    answer_days INTEGER NOT NULL CHECK (answer_days BETWEEN 1 AND 365),
    legal_basis TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE holidays (
    date DATE PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'working_day')),
    source TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE obligations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units (code),
    category_code TEXT REFERENCES categories (code),
    cadence TEXT NOT NULL CHECK (cadence IN ('monthly', 'quarterly')),
    min_items INTEGER NOT NULL DEFAULT 1 CHECK (min_items >= 1),
    due_day INTEGER CHECK (due_day BETWEEN 1 AND 31),
    starts_on DATE NOT NULL,
    ends_on DATE,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX obligations_unit_idx ON obligations (unit_code);
