-- codelens index schema, version 3: what a complete run saw of the tree, so that the next
-- run can tell "nothing changed" from one pass of stat calls, without its walk.

-- JSON, set by a run that walked the whole tree: {"digest": "<hex>:<entries>:<exclude>" or
-- null, "pruned": [folders its ignore rules skipped], "links_skipped": n, "languages": [the
-- languages of the files table when it ended]}. The digest sums
-- a hash of (path, type, size, mtime, inode) of every entry outside .git/, .codelens/ and
-- the pruned folders, taken before the walk; null when it is not known to match the index.
ALTER TABLE runs ADD COLUMN walk_state TEXT;
