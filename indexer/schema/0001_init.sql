-- codelens index schema, version 1 (PRAGMA user_version = 1).
-- This file is the public contract for other tools: the tables and views below keep their
-- columns in later versions, which only add. Open the database read-only while codelens writes
-- (WAL mode: readers never block the writer and never see a half-committed batch).

-- One row per indexed path. Every non-ignored regular file under the root has a row.
CREATE TABLE files (
    id         INTEGER PRIMARY KEY,
    path       TEXT    NOT NULL UNIQUE,  -- relative to the root, '/'-separated
    language   TEXT,                     -- NULL when codelens has no grammar for the file
    size       INTEGER NOT NULL,         -- bytes
    mtime_ns   INTEGER NOT NULL,
    inode      INTEGER NOT NULL,
    sha256     TEXT,                     -- hex SHA-256 of the content; NULL if unreadable
    status     TEXT    NOT NULL,         -- ok | syntax_error | failed | binary | too_large
                                         -- | no_grammar | excluded (not in --only)
    error      TEXT,                     -- why, for every status but ok and no_grammar
    ast_id     INTEGER REFERENCES asts(id),
    generation INTEGER NOT NULL          -- generation in which this row last changed
);
CREATE INDEX files_ast ON files(ast_id);

-- Content-addressed ASTs: identical files and renames share one entry, and a new grammar or
-- runtime (parser_version) invalidates exactly its own entries. blob: see indexer/codec.py.
CREATE TABLE asts (
    id             INTEGER PRIMARY KEY,
    sha256         TEXT    NOT NULL,
    parser_version TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    blob           BLOB    NOT NULL,     -- zlib(msgpack), flat preorder arrays (indexer/codec.py)
    node_count     INTEGER NOT NULL,
    parse_error    TEXT,                 -- first syntax error of the content; NULL when clean
    facts          BLOB    NOT NULL,     -- zlib(msgpack([token id deltas, symbols])): what a
                                         -- file with this content adds to postings/symbol_rows
    created_at     INTEGER NOT NULL,     -- unix seconds
    last_used      INTEGER NOT NULL,     -- unix seconds; `codelens cache clear` evicts by it
    UNIQUE (sha256, parser_version)
);

-- Token postings: which files contain a token (identifiers, keywords, words in strings and
-- comments, 2 to 64 bytes). Keyed (token_id, file_id): a lookup is one B-tree seek.
CREATE TABLE tokens (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE postings (
    token_id INTEGER NOT NULL,
    file_id  INTEGER NOT NULL,
    PRIMARY KEY (token_id, file_id)
) WITHOUT ROWID;

-- Definitions found by the grammars' tags queries (ctags-like), 1-based inclusive lines.
CREATE TABLE symbol_rows (
    file_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,         -- function | class | method | module | constant | ...
    start_line INTEGER NOT NULL,
    end_line   INTEGER NOT NULL
);
CREATE INDEX symbol_rows_file ON symbol_rows(file_id);
CREATE INDEX symbol_rows_name ON symbol_rows(name);

-- A generation is one committed batch. change_log holds what each changed, deletions included
-- (tombstones), so a tool can ask what changed since generation N without rescanning.
CREATE TABLE generations (
    generation   INTEGER PRIMARY KEY,
    committed_at TEXT NOT NULL           -- ISO 8601, UTC
);
CREATE TABLE change_log (
    generation INTEGER NOT NULL,
    path       TEXT    NOT NULL,
    change     TEXT    NOT NULL          -- added | modified | deleted
);
CREATE INDEX change_log_generation ON change_log(generation);

-- One row per `codelens index` run, with its summary as JSON (what `status` shows).
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    options_hash TEXT,                   -- hash of what shapes the index (grammars, --only, ...)
    summary     TEXT                     -- JSON: the object `codelens index --json` prints
);

CREATE VIEW file_tokens (path, token) AS
    SELECT f.path, t.text FROM postings p
    JOIN tokens t ON t.id = p.token_id
    JOIN files f ON f.id = p.file_id;

CREATE VIEW symbols (path, name, kind, start_line, end_line) AS
    SELECT f.path, s.name, s.kind, s.start_line, s.end_line FROM symbol_rows s
    JOIN files f ON f.id = s.file_id;

CREATE VIEW changes (generation, path, change) AS
    SELECT generation, path, change FROM change_log;
