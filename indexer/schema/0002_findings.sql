-- codelens index schema, version 2: scan findings and the scan results cache.

-- What the last `codelens scan` of each path reported, for other tools to read with SQL.
-- A scan makes the findings of the paths it covered exactly what it found.
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    rule_id     TEXT    NOT NULL,
    path        TEXT    NOT NULL,        -- as in files.path
    start_line  INTEGER NOT NULL,        -- 1-based
    start_col   INTEGER NOT NULL,        -- 1-based
    end_line    INTEGER NOT NULL,
    end_col     INTEGER NOT NULL,
    message     TEXT    NOT NULL,
    severity    TEXT    NOT NULL,        -- ERROR | WARNING | INFO
    generation  INTEGER NOT NULL         -- index generation when this path's findings last
                                         -- changed
);
CREATE INDEX findings_path ON findings(path);
CREATE INDEX findings_rule ON findings(rule_id);

-- Matches of a rule in a content: an unchanged file is never matched twice against an
-- unchanged rule. Keyed by the rule's hash, the content's SHA-256 and the matcher's version.
CREATE TABLE scan_cache (
    rule_hash TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    engine    TEXT NOT NULL,
    matches   BLOB NOT NULL,             -- JSON of the matches with positions and bindings;
                                         -- empty (no bytes) when there is none
    created_at INTEGER NOT NULL,         -- unix seconds; `codelens cache clear` evicts by it
    PRIMARY KEY (rule_hash, sha256, engine)
) WITHOUT ROWID;

-- Kept scan reports: a re-scan re-matches only the paths changed since the generation its
-- report reflects (change_log says which) and reads the rest from here.
CREATE TABLE scan_reports (
    key         TEXT PRIMARY KEY,        -- hash of the rule files, scope and options
    rules_stamp TEXT NOT NULL,           -- JSON: path, size and mtime of every rule file
    generation  INTEGER NOT NULL,        -- index generation the stored results reflect
    errors      TEXT NOT NULL,           -- JSON: the rule errors of the report
    rules       TEXT NOT NULL            -- JSON: [[id, message, severity], ...]
) WITHOUT ROWID;
CREATE TABLE scan_results (
    key     TEXT NOT NULL,
    path    TEXT NOT NULL,
    results TEXT NOT NULL,               -- JSON array of semgrep-format results for the path
    PRIMARY KEY (key, path)
) WITHOUT ROWID;
