"""The Sphinx extensions of the course book, one module each, named in _config.yml's
`sphinx.extra_extensions` (coordkit.book.extensions.<name>): facts (the {fact}/{deadline} roles, fact
tables and sources, rebuilding a page when a fact it cites changes), glossary, syllabus, edition (the
English and Japanese editions and the switch between them), search (Japanese n-gram search), a11y
(language marks and theme names in the written HTML); nodes holds the table helper they share.

May import: Sphinx and docutils, coordkit.content (facts, glossary, syllabus), coordkit.book's own
modules (build, a11y) and `errors`. Nothing imports these modules but Sphinx (by name) and their tests;
the old names (coordkit.sphinx_facts, ...) stay importable through coordkit._legacy.MOVED for books
whose configuration still names them."""
