"""Full-text search over the gallery: one grammar, two engines.

What a person types becomes a `Query`: words are ANDed, "quoted phrases" match in order,
`word*` matches a prefix, `-word` (or `-"a phrase"`) excludes. Anything else a person can
type (unbalanced quotes, lone operators, `NEAR(`, emoji, control characters, 10,000
characters) is reduced to those parts, with a message when something was dropped, so no
syntax error from the engine can ever reach a page: every engine query is built here from
letters and digits only.

SQLite: an FTS5 table (`gallery_image_fts`, external content over a view that joins the
owner's name, with the filter values as facet tokens) kept current by triggers. PostgreSQL: a
`search_vector` tsvector column kept by a trigger (it includes the owner's name, which a
generated column cannot read), a bucketed copy of it for newest-first pages (BUCKET_BITS),
and GIN indexes over each with the filter columns. Migration 0005 creates them and 0008
widens them; neither engine stems, so both agree on what matches.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import DatabaseError, connections, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

MAX_LENGTH = 1000
MAX_TERMS = 16
MIN_PREFIX = 2
# SQLite, QuerySet.search(): when the whole match set is at most this big, the ids drive the
# query; when it is bigger, each row is checked against the index.
PROBE_LIMIT = 4000

_TOKEN = re.compile(r'(-?)"([^"]*)"?(\*?)|(\S+)')
_PIECE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    pieces: tuple[str, ...]  # one word, or the words of a phrase, in order
    prefix: bool = False  # the last piece is a prefix
    exclude: bool = False

    def __str__(self) -> str:
        text = " ".join(self.pieces)
        text = f'"{text}"' if len(self.pieces) > 1 else text
        return ("-" if self.exclude else "") + text + ("*" if self.prefix else "")


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # SQLite only: filter values as FTS tokens (see facet()), so that search plus filters is
    # one index intersection. The filters are applied in SQL as well; these only narrow.
    facets: list[str] = field(default_factory=list)
    # SQLite only: at least one of these tokens (who may see an image: shared, or its owner).
    any_facets: list[str] = field(default_factory=list)

    @property
    def positive(self) -> list[Term]:
        return [t for t in self.terms if not t.exclude]

    @property
    def negative(self) -> list[Term]:
        return [t for t in self.terms if t.exclude]

    def __bool__(self) -> bool:
        return bool(self.positive)

    def __str__(self) -> str:
        return " ".join(str(t) for t in self.terms)


def parse(text: str) -> Query:
    """Turn anything typed into a Query; what could not be used is said in `messages`."""
    query = Query()
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text or "")
    if len(text) > MAX_LENGTH:
        text = text[:MAX_LENGTH]
        query.messages.append(f"Search uses the first {MAX_LENGTH:,} characters.")
    dropped = False
    for match in _TOKEN.finditer(text):
        minus, phrase, star, word = match.groups()
        if word is not None:
            minus = "-" if word.startswith("-") and len(word) > 1 else ""
            star = "*" if word.endswith("*") else ""
            phrase = word[len(minus) : len(word) - len(star)]
        pieces = tuple(piece.casefold() for piece in _PIECE.findall(phrase))
        if not pieces:
            dropped = True
            continue
        prefix = bool(star)
        if prefix and len(pieces[-1]) < MIN_PREFIX:
            query.messages.append(
                f"Prefix searches need at least {MIN_PREFIX} letters; "
                f"searched for the word “{pieces[-1]}” instead."
            )
            prefix = False
        term = Term(pieces=pieces, prefix=prefix, exclude=bool(minus))
        if term not in query.terms:
            query.terms.append(term)
    if dropped:
        query.messages.append(
            "Search looks for words and numbers; symbols and emoji on their own are ignored."
        )
    if len(query.terms) > MAX_TERMS:
        query.terms = query.terms[:MAX_TERMS]
        query.messages.append(f"Search uses the first {MAX_TERMS} words.")
    if query.negative and not query.positive:
        query.messages.append(
            "Add a word to look for: a search of only excluded words (-word) would match "
            "almost everything, so it was not applied."
        )
    return query


def fts5_expression(query: Query) -> str:
    """An FTS5 MATCH expression. Every piece is quoted and made of letters and digits only;
    what a person typed is matched against the text columns, never the facets."""

    def phrase(term: Term) -> str:
        return '"' + " ".join(term.pieces) + '"' + (" *" if term.prefix else "")

    typed = "(" + " AND ".join(phrase(t) for t in query.positive) + ")"
    for term in query.negative:
        typed = f"({typed} NOT {phrase(term)})"
    expression = f"({{prompt revised_prompt owner_name}} : {typed})"
    for token in query.facets:
        expression = f'({expression} AND facets : "{token}")'
    if query.any_facets:
        either = " OR ".join(f'"{token}"' for token in query.any_facets)
        expression = f"({expression} AND facets : ({either}))"
    return expression


_FACET_VALUE = re.compile(r"^[A-Za-z0-9.\-:/_]{0,100}$")
_FACET_DROPPED = re.compile(r"[.\-:/_]")


def facet(key: str, value) -> str | None:
    """The FTS token for one filter value, exactly as the index view spells it (see
    _facets_sql), or None when the value cannot be spelled the same way in SQL."""
    value = str(value)
    if not _FACET_VALUE.match(value):
        return None
    return "zz" + key + _FACET_DROPPED.sub("", value).lower()


def tsquery(query: Query, bucket: int | None = None) -> str:
    """A PostgreSQL to_tsquery() text. Lexemes are quoted and made of letters and digits;
    with a bucket, they are the lexemes of search_bucketed (see BUCKET_BITS)."""
    bucketed = "" if bucket is None else f"b{bucket}x"

    def phrase(term: Term) -> str:
        lexemes = [f"'{bucketed}{piece}'" for piece in term.pieces]
        if term.prefix:
            lexemes[-1] += ":*"
        return "(" + " <-> ".join(lexemes) + ")"

    parts = [phrase(t) for t in query.positive] + [f"!{phrase(t)}" for t in query.negative]
    return " & ".join(parts)


def apply(queryset, query: Query):
    """The images in `queryset` that match `query` (all of them for an empty query)."""
    if not query:
        return queryset
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        return _apply_fts5(queryset, query)
    if vendor == "postgresql":
        return _matching(queryset, "gallery_image.search_vector", tsquery(query))
    return _apply_substrings(queryset, query)


def apply_row_by_row(queryset, query: Query):
    """PostgreSQL: like apply(), but checked on each row rather than through the index, for
    a narrow id range the planner would otherwise intersect with every match in the index."""
    vector = "coalesce(gallery_image.search_vector, ''::tsvector)"
    return _matching(queryset, vector, tsquery(query))


def apply_bucketed(queryset, query: Query, buckets: list[int]):
    """PostgreSQL: the images of `queryset` in these id buckets that match `query`, through
    the bucketed index (see BUCKET_BITS)."""
    either = " | ".join(f"({tsquery(query, bucket)})" for bucket in buckets)
    return _matching(queryset, "gallery_image.search_bucketed", either)


def _matching(queryset, vector: str, text: str):
    """PostgreSQL: the rows whose tsvector `vector` (SQL) matches the to_tsquery() `text`."""
    condition = RawSQL(f"{vector} @@ to_tsquery('simple', %s)", [text], output_field=BooleanField())
    return queryset.filter(condition)


def sqlite_match_ids(query: Query, *, using: str = "default") -> list[int] | None:
    """Every matching id when there are at most PROBE_LIMIT of them, else None."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s LIMIT %s",
            [fts5_expression(query), PROBE_LIMIT + 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= PROBE_LIMIT else None


def sqlite_newest_ids(query: Query, *, before: int | None, limit: int, using="default"):
    """The ids of the newest `limit` matches below `before`, newest first: FTS5 walks its
    doclists in descending rowid order and stops at the limit."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s "
            "AND rowid < %s ORDER BY rowid DESC LIMIT %s",
            [fts5_expression(query), before if before is not None else 2**63 - 1, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def sqlite_match_ids_between(query: Query, low: int, high: int, *, using="default") -> set[int]:
    """The matching ids in [low, high]: FTS5 seeks a rowid range cheaply."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s "
            "AND rowid BETWEEN %s AND %s",
            [fts5_expression(query), low, high],
        )
        return {row[0] for row in cursor.fetchall()}


def _apply_fts5(queryset, query: Query):
    ids = sqlite_match_ids(query, using=queryset.db)
    if ids is not None:
        return queryset.filter(pk__in=ids)
    # Many matches: a per-row check. Correct anywhere; gallery.browse walks the newest-first
    # index in windows instead, which is much faster for a page.
    expression = fts5_expression(query)
    return queryset.filter(
        RawSQL(
            "EXISTS (SELECT 1 FROM gallery_image_fts WHERE gallery_image_fts MATCH %s "
            "AND rowid = gallery_image.id)",
            [expression],
            output_field=BooleanField(),
        )
    )


def _apply_substrings(queryset, query: Query):
    """Other databases: a slow but correct substring match (no index)."""
    for term in query.positive:
        queryset = queryset.filter(prompt__icontains=" ".join(term.pieces))
    for term in query.negative:
        queryset = queryset.exclude(prompt__icontains=" ".join(term.pieces))
    return queryset


def ranked_ids(query: Query, *, using: str = "default", limit: int = 1000) -> list[int]:
    """Ids of the best-matching images, best first (relevance order), at most `limit`."""
    if not query:
        return []
    vendor = connections[using].vendor
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(
                "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s "
                "ORDER BY rank LIMIT %s",
                [fts5_expression(query), limit],
            )
        elif vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM gallery_image, to_tsquery('simple', %s) q "
                "WHERE search_vector @@ q ORDER BY ts_rank(search_vector, q) DESC, id DESC "
                "LIMIT %s",
                [tsquery(query), limit],
            )
        else:
            return []
        return [row[0] for row in cursor.fetchall()]


def naive(queryset, text: str):
    """The baseline the benchmark compares against: a substring scan per word."""
    words = text.split()
    return queryset.filter(Q(*[Q(prompt__icontains=w) for w in words])) if words else queryset


# --- The indexes (created by migration 0005; SQLite triggers re-checked after every migrate,
# because Django's SQLite schema editor rebuilds a table to alter it and drops its triggers).

_OWNER = "(SELECT username FROM auth_user WHERE id = {row}.owner_id)"


def _facets_sql(row: str) -> str:
    """The facet tokens of an image row, as SQL (must spell values as facet() does)."""
    model = f"{row}.model"
    for dropped in ".-:/_":
        model = f"replace({model}, '{dropped}', '')"
    return (
        f"'zzo' || {row}.owner_id || ' zzm' || lower({model}) || ' zzq' || {row}.quality "
        f"|| ' zzb' || {row}.background || ' zzs' || {row}.source "
        f"|| ' zzf' || replace({row}.content_type, 'image/', '') "
        f"|| ' zzw' || {row}.width || 'x' || {row}.height "
        f"|| ' zzp' || {row}.provenance_state || ' zza' || {row}.ai_generated"
        f"|| ' zzv' || {row}.visibility"
    )


_FTS_COLUMNS = "rowid, prompt, revised_prompt, owner_name, facets"
_FTS_INSERT = (
    f"INSERT INTO gallery_image_fts({_FTS_COLUMNS}) VALUES (new.id, new.prompt, "
    f"new.revised_prompt, {_OWNER.format(row='new')}, {_facets_sql('new')});"
)
_FTS_DELETE = (
    f"INSERT INTO gallery_image_fts(gallery_image_fts, {_FTS_COLUMNS}) VALUES ('delete', "
    f"old.id, old.prompt, old.revised_prompt, {_OWNER.format(row='old')}, {_facets_sql('old')});"
)
SQLITE_TRIGGERS = {
    "gallery_image_fts_insert": (
        "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_insert AFTER INSERT ON gallery_image "
        f"BEGIN {_FTS_INSERT} END"
    ),
    "gallery_image_fts_delete": (
        "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_delete AFTER DELETE ON gallery_image "
        f"BEGIN {_FTS_DELETE} END"
    ),
    "gallery_image_fts_update": (
        "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_update AFTER UPDATE ON gallery_image "
        f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END"
    ),
    "gallery_image_fts_owner_renamed": (
        "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_owner_renamed "
        "AFTER UPDATE OF username ON auth_user BEGIN "
        f"INSERT INTO gallery_image_fts(gallery_image_fts, {_FTS_COLUMNS}) "
        f"SELECT 'delete', id, prompt, revised_prompt, old.username, {_facets_sql('i')} "
        "FROM gallery_image i WHERE owner_id = old.id; "
        f"INSERT INTO gallery_image_fts({_FTS_COLUMNS}) "
        f"SELECT id, prompt, revised_prompt, new.username, {_facets_sql('i')} "
        "FROM gallery_image i WHERE owner_id = new.id; END"
    ),
}
SQLITE_CREATE = [
    "CREATE VIEW IF NOT EXISTS gallery_image_search AS SELECT i.id AS id, i.prompt AS prompt, "
    "i.revised_prompt AS revised_prompt, u.username AS owner_name, "
    f"{_facets_sql('i')} AS facets FROM gallery_image i JOIN auth_user u ON u.id = i.owner_id",
    # External content over the view: the index stores only tokens, the text stays in
    # gallery_image. prefix='2 3' makes short prefix searches (ca*) cheap.
    "CREATE VIRTUAL TABLE IF NOT EXISTS gallery_image_fts USING fts5(prompt, revised_prompt, "
    "owner_name, facets, content='gallery_image_search', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    *SQLITE_TRIGGERS.values(),
    "INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    "DROP TABLE IF EXISTS gallery_image_fts",
    "DROP VIEW IF EXISTS gallery_image_search",
]


def _search_vector_function(extra: str = "") -> str:
    """The trigger function that keeps search_vector (and, from migration 0008, the bucketed
    copy) current. A trigger, not a generated column: the owner's name lives in another
    table. Separate tsvectors concatenated keep a phrase from spanning prompt and name."""
    return f"""CREATE OR REPLACE FUNCTION gallery_image_search_vector() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_vector := to_tsvector('simple', coalesce(NEW.prompt, ''))
        || to_tsvector('simple', coalesce(NEW.revised_prompt, ''))
        || to_tsvector('simple', coalesce(
             (SELECT username FROM auth_user WHERE id = NEW.owner_id), ''));
      {extra}
      RETURN NEW;
    END $$"""


POSTGRES_CREATE = [
    "ALTER TABLE gallery_image ADD COLUMN IF NOT EXISTS search_vector tsvector",
    _search_vector_function(),
    "CREATE TRIGGER gallery_image_search_vector "
    "BEFORE INSERT OR UPDATE OF prompt, revised_prompt, owner_id ON gallery_image "
    "FOR EACH ROW EXECUTE FUNCTION gallery_image_search_vector()",
    """CREATE OR REPLACE FUNCTION gallery_owner_renamed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE gallery_image SET owner_id = owner_id WHERE owner_id = NEW.id;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER gallery_owner_renamed AFTER UPDATE OF username ON auth_user "
    "FOR EACH ROW WHEN (OLD.username IS DISTINCT FROM NEW.username) "
    "EXECUTE FUNCTION gallery_owner_renamed()",
    "UPDATE gallery_image SET prompt = prompt",
    "CREATE INDEX IF NOT EXISTS gallery_image_search ON gallery_image USING gin (search_vector)",
]
# Newest first on PostgreSQL (migration 0008): a GIN index hands over every match of a word
# before any can be sorted, and at a million images a common word has tens of thousands
# (about 7 ms of index work on its own). So each image's words are indexed a second time
# behind the number of its id bucket (2**16 ids): `b15xfox`. A newest-first search reads the
# newest two buckets' short lists first and the whole index only if they fall short.
BUCKET_BITS = 16
# The same lexemes and positions (phrases keep working), each behind its bucket. Lexemes
# from the 'simple' parser hold no quote or backslash, but they are escaped all the same.
_BUCKETED = r"""CREATE OR REPLACE FUNCTION gallery_bucketed(v tsvector, bucket bigint)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(string_agg(
          '''' || replace(replace('b' || bucket || 'x' || lexeme, '\', '\\'), '''', '''''')
          || '''' || coalesce(':' || array_to_string(positions, ','), ''), ' '), '')::tsvector
      FROM unnest(v)
    $$"""
POSTGRES_BUCKETS = [
    "ALTER TABLE gallery_image ADD COLUMN IF NOT EXISTS search_bucketed tsvector",
    _BUCKETED,
    _search_vector_function(
        f"NEW.search_bucketed := gallery_bucketed(NEW.search_vector, NEW.id >> {BUCKET_BITS});"
    ),
    "UPDATE gallery_image SET search_bucketed = "
    f"gallery_bucketed(search_vector, id >> {BUCKET_BITS})",
]
# The GIN indexes also hold the columns the gallery filters on (the btree_gin extension, part
# of PostgreSQL's contrib), so search plus filters is one intersection inside the index
# rather than thousands of rows fetched and thrown away.
POSTGRES_FILTER_COLUMNS = (
    "owner_id",
    "model",
    "source",
    "quality",
    "background",
    "content_type",
    "width",
    "height",
    "provenance_state",
    "ai_generated",
)
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS gallery_image_search_bucketed",
    "ALTER TABLE gallery_image DROP COLUMN IF EXISTS search_bucketed",
    "DROP TRIGGER IF EXISTS gallery_owner_renamed ON auth_user",
    "DROP FUNCTION IF EXISTS gallery_owner_renamed()",
    "DROP TRIGGER IF EXISTS gallery_image_search_vector ON gallery_image",
    "DROP FUNCTION IF EXISTS gallery_image_search_vector()",
    "DROP FUNCTION IF EXISTS gallery_bucketed(tsvector, bigint)",
    "DROP INDEX IF EXISTS gallery_image_search",
    "ALTER TABLE gallery_image DROP COLUMN IF EXISTS search_vector",
]


def create_index(schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, SQLITE_CREATE, POSTGRES_CREATE):
        schema_editor.execute(sql, params=None)


def recreate_sqlite_index(schema_editor) -> None:
    """Migration 0008: the FTS5 index again, with the visibility facet (rebuilt from the
    rows: about two minutes per million images)."""
    for sql in SQLITE_DROP + SQLITE_CREATE:
        schema_editor.execute(sql, params=None)
    optimize(schema_editor.connection.alias)


def create_postgres_buckets(schema_editor) -> None:
    """Migration 0008: the bucketed tsvector, then both GIN indexes with the filters."""
    for sql in POSTGRES_BUCKETS:
        schema_editor.execute(sql, params=None)
    create_postgres_gin(schema_editor.connection)


def create_postgres_gin(connection) -> None:
    """The GIN indexes over each tsvector and the filter columns; over the tsvectors alone
    where the btree_gin extension cannot be created (a database user without the right)."""
    columns: tuple[str, ...] = POSTGRES_FILTER_COLUMNS
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        except DatabaseError:
            columns = ()
        for index, vector in (("search", "search_vector"), ("search_bucketed", "search_bucketed")):
            cursor.execute(f"DROP INDEX IF EXISTS gallery_image_{index}")
            cursor.execute(
                f"CREATE INDEX gallery_image_{index} ON gallery_image "
                f"USING gin ({', '.join((vector, *columns))})"
            )


def optimize(using: str = "default") -> None:
    """SQLite: merge the FTS5 index into one segment (a rare-word search then reads one
    doclist instead of one per segment). Seconds at a million images; PostgreSQL: nothing."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('optimize')")


def drop_index(schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, SQLITE_DROP, POSTGRES_DROP):
        schema_editor.execute(sql, params=None)


def _statements(vendor: str, sqlite: list[str], postgres: list[str]) -> list[str]:
    return {"sqlite": sqlite, "postgresql": postgres}.get(vendor, [])


def repair_sqlite_triggers(connection) -> bool:
    """Recreate FTS triggers a table rebuild dropped, and rebuild the index (rows may have
    changed while the triggers were gone). Returns whether anything was repaired."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'gallery_image_fts'")
        if cursor.fetchone() is None:
            return False  # migration 0005 has not run (or was reversed)
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        missing = [sql for name, sql in SQLITE_TRIGGERS.items() if name not in present]
        for sql in missing:
            cursor.execute(sql)
        if missing:
            cursor.execute("INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')")
    return bool(missing)
