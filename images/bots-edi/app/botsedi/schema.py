"""The four Bots tables the engine writes with raw SQL, as the engine needs them on MySQL/MariaDB.

Django's `migrate --run-syncdb` makes these from the models without column defaults, but the engine's
INSERTs name only a few columns and rely on database defaults for the rest. bots-ediint ships SQL scripts
for them (bots/sql/*.mysql.sql); these definitions follow those columns and defaults, with one deliberate
difference: `persist` gets the auto-increment `id` primary key the Django model expects plus a unique key
on (domein, botskey). The script's composite primary key without `id` is what makes
`manage.py dumpdata` fail with "Unknown column 'persist.id'"; the unique key keeps the engine's
insert-else-update logic (transform.persist_add_update) working.
"""

TABLES = {
    "ta": [
        ("idta", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"),
        ("statust", "INT DEFAULT 0"),
        ("status", "INT DEFAULT 0"),
        ("parent", "INT DEFAULT 0"),
        ("child", "INT DEFAULT 0"),
        ("script", "INT DEFAULT 0"),
        ("idroute", "VARCHAR(35) DEFAULT ''"),
        ("filename", "VARCHAR(256) DEFAULT ''"),
        ("frompartner", "VARCHAR(35) DEFAULT ''"),
        ("topartner", "VARCHAR(35) DEFAULT ''"),
        ("fromchannel", "VARCHAR(35) DEFAULT ''"),
        ("tochannel", "VARCHAR(35) DEFAULT ''"),
        ("editype", "VARCHAR(35) DEFAULT ''"),
        ("messagetype", "VARCHAR(35) DEFAULT ''"),
        ("alt", "VARCHAR(35) DEFAULT ''"),
        ("divtext", "VARCHAR(35) DEFAULT ''"),
        ("merge", "TINYINT(1) DEFAULT 0"),
        ("nrmessages", "INT DEFAULT 1"),
        ("testindicator", "VARCHAR(10) DEFAULT ''"),
        ("reference", "VARCHAR(70) DEFAULT ''"),
        ("frommail", "VARCHAR(256) DEFAULT ''"),
        ("tomail", "VARCHAR(256) DEFAULT ''"),
        ("charset", "VARCHAR(35) DEFAULT ''"),
        ("statuse", "INT DEFAULT 0"),
        ("retransmit", "TINYINT(1) DEFAULT 0"),
        ("contenttype", "VARCHAR(35) DEFAULT 'text/plain'"),
        ("errortext", "LONGTEXT NULL"),
        ("ts", "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        ("confirmasked", "TINYINT(1) DEFAULT 0"),
        ("confirmed", "TINYINT(1) DEFAULT 0"),
        ("confirmtype", "VARCHAR(35) DEFAULT ''"),
        ("confirmidta", "INT DEFAULT 0"),
        ("envelope", "VARCHAR(35) DEFAULT ''"),
        ("botskey", "VARCHAR(64) DEFAULT ''"),
        ("cc", "VARCHAR(512) DEFAULT ''"),
        ("rsrv1", "VARCHAR(35) DEFAULT ''"),
        ("rsrv2", "INT DEFAULT 0"),
        ("rsrv3", "VARCHAR(35) DEFAULT ''"),
        ("rsrv4", "INT DEFAULT 0"),
        ("rsrv5", "VARCHAR(35) DEFAULT ''"),
        ("filesize", "INT DEFAULT 0"),
        ("numberofresends", "INT DEFAULT 0"),
    ],
    "mutex": [
        ("mutexk", "INT NOT NULL PRIMARY KEY"),
        ("mutexer", "INT DEFAULT 0"),
        ("ts", "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"),
    ],
    "persist": [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"),
        ("domein", "VARCHAR(35) NOT NULL DEFAULT ''"),
        ("botskey", "VARCHAR(35) NOT NULL DEFAULT ''"),
        ("content", "LONGTEXT NULL"),
        ("ts", "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"),
    ],
    "uniek": [
        ("domein", "VARCHAR(35) NOT NULL PRIMARY KEY"),
        ("nummer", "INT NOT NULL DEFAULT 1"),
    ],
}

# (table, index name, columns, unique)
INDEXES = [
    ("ta", "ta_parent_idx", ("parent",), False),
    ("ta", "ta_reference_idx", ("reference",), False),
    ("persist", "persist_domein_botskey_uniq", ("domein", "botskey"), True),
]


def _key(name: str, cols: tuple, unique: bool) -> str:
    return f"{'UNIQUE ' if unique else ''}KEY `{name}` ({', '.join(f'`{c}`' for c in cols)})"


def create_statement(table: str) -> str:
    lines = [f"`{name}` {spec}" for name, spec in TABLES[table]]
    lines += [_key(name, cols, unique) for itable, name, cols, unique in INDEXES if itable == table]
    body = ",\n  ".join(lines)
    return f"CREATE TABLE IF NOT EXISTS `{table}` (\n  {body}\n) ENGINE=InnoDB"


def _has_default(spec: str) -> bool:
    return " DEFAULT " in f" {spec.upper()} "


def repair_statement(table: str, actual: dict, indexes: list):
    """One ALTER TABLE that brings an existing table (e.g. made by plain migrate, or the persist table of
    bots' SQL script) to the definition above, or None when nothing is missing.

    actual: column name -> (is_nullable 'YES'/'NO', column_default or None)
    indexes: list of (index name, unique: bool, [columns in order])
    """
    clauses = []
    if table == "persist" and "id" not in actual:
        clauses += ["DROP PRIMARY KEY", "ADD COLUMN `id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST"]
        indexes = [index for index in indexes if index[0] != "PRIMARY"]
    for name, spec in TABLES[table]:
        if "PRIMARY KEY" in spec:
            continue
        if name not in actual:
            clauses.append(f"ADD COLUMN `{name}` {spec}")
            continue
        nullable, default = actual[name]
        missing_default = _has_default(spec) and (default is None or str(default).upper() == "NULL")
        wrongly_not_null = "NOT NULL" not in spec.upper() and nullable == "NO"
        if missing_default or wrongly_not_null:
            clauses.append(f"MODIFY COLUMN `{name}` {spec}")
    for itable, name, cols, unique in INDEXES:
        if itable != table:
            continue
        if unique:
            present = any(u and tuple(c) == cols for _n, u, c in indexes)
        else:
            present = any(tuple(c[: len(cols)]) == cols for _n, _u, c in indexes)
        if not present:
            clauses.append("ADD " + _key(name, cols, unique))
    if not clauses:
        return None
    return f"ALTER TABLE `{table}` " + ", ".join(clauses)
