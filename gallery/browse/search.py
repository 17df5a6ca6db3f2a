"""Full-text search over the gallery: one grammar, two engines.

What a person types becomes a `Query`: words are ANDed, "quoted phrases" match in order,
`word*` matches a prefix, `-word` (or `-"a phrase"`) excludes. Anything else a person can
type (unbalanced quotes, lone operators, `NEAR(`, emoji, control characters, 10,000
characters) is reduced to those parts, with a message when something was dropped, so no
syntax error from the engine can ever reach a page: every engine query is built here from
letters and digits only.

Plain words are stemmed ("foxes" finds "fox", "running" finds "run"); "quoted phrases",
prefixes (`word*`) and filter values match exactly as typed.

SQLite: two FTS5 tables over one view that joins the owner's name and spells the filter values
as facet tokens, both kept current by triggers: `gallery_image_stem` (the porter tokenizer;
what a search reads first) and `gallery_image_fts` (unicode61, exact; phrases and prefixes are
confirmed there). PostgreSQL: a `search_vector` tsvector kept by a trigger (it includes the
owner's name, which a generated column cannot read) that holds each word twice: stemmed by the
`gallery_english` configuration (the english stemmer without its stop-word list, so "the" is a
word on both engines) and exactly, behind EXACT_MARK; a bucketed copy of it for newest-first
pages (BUCKET_BITS); GIN indexes over each with the filter columns. Migrations 0005 and 0008
create them and 0015 adds the stemming.
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
    quoted: bool = False  # typed in quotes: matched as typed, never stemmed

    def __str__(self) -> str:
        text = " ".join(self.pieces)
        text = f'"{text}"' if len(self.pieces) > 1 or self.quoted else text
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
        term = Term(pieces=pieces, prefix=prefix, exclude=bool(minus), quoted=word is None)
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


def is_exact(term: Term) -> bool:
    """Quoted words, phrases and prefixes match as typed; a plain word is stemmed."""
    return term.quoted or len(term.pieces) > 1 or term.prefix


def _fts5_phrase(term: Term) -> str:
    return '"' + " ".join(term.pieces) + '"' + (" *" if term.prefix else "")


def fts5_expression(query: Query) -> str:
    """An FTS5 MATCH expression for the exact table (`gallery_image_fts`). Every piece is
    quoted and made of letters and digits only; what a person typed is matched against the
    text columns, never the facets."""
    return _with_facets(query, _typed(query.positive, query.negative))


def fts5_stemmed_expression(query: Query) -> str | None:
    """The MATCH expression for the porter table (`gallery_image_stem`): plain words, and
    positive phrases as a superset (stemmed phrases match whatever the exact phrase matches);
    prefixes and excluded phrases are left to fts5_exact_checks(). None when no positive
    plain word is asked for: then the exact table reads everything typed as typed (and
    excluded plain words are stemmed through the porter table)."""
    if not any(not is_exact(t) for t in query.positive):
        return None
    positive = [t for t in query.positive if not t.prefix]
    return _with_facets(query, _typed(positive, [t for t in query.negative if not is_exact(t)]))


def fts5_exact_checks(query: Query) -> tuple[str | None, str | None]:
    """For a search read from the porter table: the exact-table expressions the results must
    match (phrases and prefixes) and must not match (excluded phrases and prefixes)."""
    must = [t for t in query.positive if is_exact(t)]
    must_not = [t for t in query.negative if is_exact(t)]
    either = "(" + " OR ".join(_fts5_phrase(t) for t in must_not) + ")"
    return (
        f"({{prompt revised_prompt owner_name}} : {_typed(must, [])})" if must else None,
        f"({{prompt revised_prompt owner_name}} : {either})" if must_not else None,
    )


def sqlite_search(query: Query) -> tuple[str, str, list[str]]:
    """(table, condition, params): `SELECT rowid FROM <table> WHERE <condition>` are the
    matches. The porter table when a plain word is asked for, with exact terms confirmed in
    the exact table; otherwise the exact table, the lists of its own terms' matches then
    being short (FTS5 walks them newest first and stops after a page)."""
    stemmed = fts5_stemmed_expression(query)
    if stemmed is None:
        exact = Query(
            terms=[t for t in query.terms if is_exact(t)],
            facets=query.facets,
            any_facets=query.any_facets,
        )
        condition, params = "gallery_image_fts MATCH %s", [fts5_expression(exact)]
        excluded = [t for t in query.negative if not is_exact(t)]
        if excluded:
            either = " OR ".join(_fts5_phrase(t) for t in excluded)
            condition += (
                " AND +rowid NOT IN (SELECT rowid FROM gallery_image_stem WHERE "
                "gallery_image_stem MATCH %s)"
            )
            params.append(f"({{prompt revised_prompt owner_name}} : ({either}))")
        return "gallery_image_fts", condition, params
    condition, params = "gallery_image_stem MATCH %s", [stemmed]
    must, must_not = fts5_exact_checks(query)
    exact_rows = "(SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s)"
    if must:
        condition += f" AND +rowid IN {exact_rows}"
        params.append(must)
    if must_not:
        condition += f" AND +rowid NOT IN {exact_rows}"
        params.append(must_not)
    return "gallery_image_stem", condition, params


def _typed(positive: list[Term], negative: list[Term]) -> str:
    typed = "(" + " AND ".join(_fts5_phrase(t) for t in positive) + ")"
    for term in negative:
        typed = f"({typed} NOT {_fts5_phrase(term)})"
    return typed


def _with_facets(query: Query, typed: str) -> str:
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


# PostgreSQL: the exact lexemes in search_vector are marked with this (see the docstring).
EXACT_MARK = "="


def tsquery(terms: list[Term]) -> str:
    """A to_tsquery() text for `terms` (excluded ones behind !). Lexemes are quoted and made
    of letters and digits."""

    def phrase(term: Term) -> str:
        lexemes = [f"'{piece}'" for piece in term.pieces]
        if term.prefix:
            lexemes[-1] += ":*"
        return "(" + " <-> ".join(lexemes) + ")"

    return " & ".join(("!" if t.exclude else "") + phrase(t) for t in terms)


def _marked(tsquery_sql: str, mark: str) -> str:
    """SQL: the tsquery `tsquery_sql` with every lexeme behind `mark` (letters, digits or
    EXACT_MARK: no quoting needed). Lexemes made from pieces never hold a quote."""
    return f"regexp_replace(({tsquery_sql})::text, '''([^'']+)''', '''{mark}\\1''', 'g')::tsquery"


def postgres_tsquery(query: Query, bucket: int | None = None) -> tuple[str, list[str]]:
    """(SQL, params) of the tsquery for `query`: plain words stemmed by `gallery_english`;
    phrases and prefixes exactly, as the marked lexemes (positive phrases are asked stemmed
    as well, which only narrows). With a bucket, the lexemes of search_bucketed instead (see
    BUCKET_BITS)."""
    stemmed = [t for t in query.terms if not t.prefix and not (t.exclude and is_exact(t))]
    exact = [t for t in query.terms if is_exact(t)]
    parts, params = [], []
    if stemmed:
        parts.append("to_tsquery('gallery_english', %s)")
        params.append(tsquery(stemmed))
    if exact:
        parts.append(_marked("to_tsquery('simple', %s)", EXACT_MARK))
        params.append(tsquery(exact))
    sql = "(" + " && ".join(parts) + ")"
    if bucket is not None:
        sql = _marked(sql, f"b{bucket}x")
    return sql, params


def apply(queryset, query: Query):
    """The images in `queryset` that match `query` (all of them for an empty query)."""
    if not query:
        return queryset
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        return _apply_fts5(queryset, query)
    if vendor == "postgresql":
        return _matching(queryset, "gallery_image.search_vector", *postgres_tsquery(query))
    return _apply_substrings(queryset, query)


def apply_row_by_row(queryset, query: Query):
    """PostgreSQL: like apply(), but checked on each row rather than through the index, for
    a narrow id range the planner would otherwise intersect with every match in the index."""
    vector = "coalesce(gallery_image.search_vector, ''::tsvector)"
    return _matching(queryset, vector, *postgres_tsquery(query))


def apply_bucketed(queryset, query: Query, buckets: list[int]):
    """PostgreSQL: the images of `queryset` in these id buckets that match `query`, through
    the bucketed index (see BUCKET_BITS)."""
    each = [postgres_tsquery(query, bucket) for bucket in buckets]
    either = " || ".join(sql for sql, _ in each)
    params = [param for _, bucket_params in each for param in bucket_params]
    return _matching(queryset, "gallery_image.search_bucketed", either, params)


def _matching(queryset, vector: str, tsquery_sql: str, params: list[str]):
    """PostgreSQL: the rows whose tsvector `vector` (SQL) matches the tsquery (SQL)."""
    condition = RawSQL(f"{vector} @@ ({tsquery_sql})", params, output_field=BooleanField())
    return queryset.filter(condition)


def sqlite_match_ids(query: Query, *, using: str = "default") -> list[int] | None:
    """Every matching id when there are at most PROBE_LIMIT of them, else None."""
    table, condition, params = sqlite_search(query)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {condition} LIMIT %s", [*params, PROBE_LIMIT + 1]
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= PROBE_LIMIT else None


def sqlite_newest_ids(query: Query, *, before: int | None, limit: int, using="default"):
    """The ids of the newest `limit` matches below `before`, newest first: FTS5 walks its
    doclists in descending rowid order and stops at the limit."""
    table, condition, params = sqlite_search(query)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {condition} "
            "AND rowid < %s ORDER BY rowid DESC LIMIT %s",
            [*params, before if before is not None else 2**63 - 1, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def sqlite_match_ids_between(query: Query, low: int, high: int, *, using="default") -> set[int]:
    """The matching ids in [low, high]: FTS5 seeks a rowid range cheaply."""
    table, condition, params = sqlite_search(query)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {condition} AND rowid BETWEEN %s AND %s",
            [*params, low, high],
        )
        return {row[0] for row in cursor.fetchall()}


def _apply_fts5(queryset, query: Query):
    ids = sqlite_match_ids(query, using=queryset.db)
    if ids is not None:
        return queryset.filter(pk__in=ids)
    # Many matches: a per-row check. Correct anywhere; gallery.browse walks the newest-first
    # index in windows instead, which is much faster for a page.
    table, condition, params = sqlite_search(query)
    return queryset.filter(
        RawSQL(
            f"EXISTS (SELECT 1 FROM {table} WHERE {condition} AND rowid = gallery_image.id)",
            params,
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
            table, condition, params = sqlite_search(query)
            cursor.execute(
                f"SELECT rowid FROM {table} WHERE {condition} ORDER BY rank LIMIT %s",
                [*params, limit],
            )
        elif vendor == "postgresql":
            sql, params = postgres_tsquery(query)
            cursor.execute(
                f"SELECT id FROM gallery_image, (SELECT {sql} AS q) t WHERE search_vector @@ t.q "
                "ORDER BY ts_rank(search_vector, t.q) DESC, id DESC "
                "LIMIT %s",
                [*params, limit],
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


def _sqlite_triggers(table: str) -> dict[str, str]:
    """The triggers that keep the FTS5 table `table` in step with gallery_image and names."""
    insert = (
        f"INSERT INTO {table}({_FTS_COLUMNS}) VALUES (new.id, new.prompt, "
        f"new.revised_prompt, {_OWNER.format(row='new')}, {_facets_sql('new')});"
    )
    delete = (
        f"INSERT INTO {table}({table}, {_FTS_COLUMNS}) VALUES ('delete', old.id, old.prompt, "
        f"old.revised_prompt, {_OWNER.format(row='old')}, {_facets_sql('old')});"
    )
    return {
        f"{table}_insert": (
            f"CREATE TRIGGER IF NOT EXISTS {table}_insert AFTER INSERT ON gallery_image "
            f"BEGIN {insert} END"
        ),
        f"{table}_delete": (
            f"CREATE TRIGGER IF NOT EXISTS {table}_delete AFTER DELETE ON gallery_image "
            f"BEGIN {delete} END"
        ),
        f"{table}_update": (
            f"CREATE TRIGGER IF NOT EXISTS {table}_update AFTER UPDATE ON gallery_image "
            f"BEGIN {delete} {insert} END"
        ),
        f"{table}_owner_renamed": (
            f"CREATE TRIGGER IF NOT EXISTS {table}_owner_renamed "
            "AFTER UPDATE OF username ON auth_user BEGIN "
            f"INSERT INTO {table}({table}, {_FTS_COLUMNS}) "
            f"SELECT 'delete', id, prompt, revised_prompt, old.username, {_facets_sql('i')} "
            "FROM gallery_image i WHERE owner_id = old.id; "
            f"INSERT INTO {table}({_FTS_COLUMNS}) "
            f"SELECT id, prompt, revised_prompt, new.username, {_facets_sql('i')} "
            "FROM gallery_image i WHERE owner_id = new.id; END"
        ),
    }


# The two tables (see the module's docstring), each rebuilt by its own name.
SQLITE_TABLES = ("gallery_image_fts", "gallery_image_stem")
SQLITE_TRIGGERS = {
    name: sql for table in SQLITE_TABLES for name, sql in _sqlite_triggers(table).items()
}
# The porter table (migration 0015): the same columns over the same view, words stemmed.
# No prefix index: prefixes are matched in the exact table.
SQLITE_STEM_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS gallery_image_stem USING fts5(prompt, revised_prompt, "
    "owner_name, facets, content='gallery_image_search', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    *_sqlite_triggers("gallery_image_stem").values(),
    "INSERT INTO gallery_image_stem(gallery_image_stem) VALUES ('rebuild')",
]
SQLITE_STEM_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _sqlite_triggers("gallery_image_stem")),
    "DROP TABLE IF EXISTS gallery_image_stem",
]
SQLITE_CREATE = [
    "CREATE VIEW IF NOT EXISTS gallery_image_search AS SELECT i.id AS id, i.prompt AS prompt, "
    "i.revised_prompt AS revised_prompt, u.username AS owner_name, "
    f"{_facets_sql('i')} AS facets FROM gallery_image i JOIN auth_user u ON u.id = i.owner_id",
    # External content over the view: the index stores only tokens, the text stays in
    # gallery_image. prefix='2 3' makes short prefix searches (ca*) cheap.
    "CREATE VIRTUAL TABLE IF NOT EXISTS gallery_image_fts USING fts5(prompt, revised_prompt, "
    "owner_name, facets, content='gallery_image_search', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    *_sqlite_triggers("gallery_image_fts").values(),
    "INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')",
    *SQLITE_STEM_CREATE,
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    "DROP TABLE IF EXISTS gallery_image_stem",
    "DROP TABLE IF EXISTS gallery_image_fts",
    "DROP VIEW IF EXISTS gallery_image_search",
]


def _search_vector_function(extra: str = "", *, stemmed: bool = False) -> str:
    """The trigger function that keeps search_vector (and, from migration 0008, the bucketed
    copy) current. A trigger, not a generated column: the owner's name lives in another
    table. Separate tsvectors concatenated keep a phrase from spanning prompt and name.
    Stemmed (migration 0015): the words stemmed, then again exactly behind EXACT_MARK."""
    if stemmed:
        vector = (
            "to_tsvector('gallery_english', coalesce(NEW.prompt, ''))\n"
            "        || to_tsvector('gallery_english', coalesce(NEW.revised_prompt, ''))\n"
            "        || to_tsvector('gallery_english', coalesce(owner_name, ''))\n"
            "        || gallery_marked(to_tsvector('simple', coalesce(NEW.prompt, ''))\n"
            "          || to_tsvector('simple', coalesce(NEW.revised_prompt, ''))\n"
            f"          || to_tsvector('simple', coalesce(owner_name, '')), '{EXACT_MARK}')"
        )
        return f"""CREATE OR REPLACE FUNCTION gallery_image_search_vector() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
      owner_name text := (SELECT username FROM auth_user WHERE id = NEW.owner_id);
    BEGIN
      NEW.search_vector := {vector};
      {extra}
      RETURN NEW;
    END $$"""
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
# Stemming (migration 0015): `gallery_english` is PostgreSQL's english configuration with the
# Snowball stemmer but without its stop-word list, so "the" and "on" stay words as they do in
# SQLite's porter table. search_vector holds each word stemmed and, behind EXACT_MARK,
# exactly as written (for phrases and prefixes); the bucketed copy follows it.
_MARKED = r"""CREATE OR REPLACE FUNCTION gallery_marked(v tsvector, mark text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(string_agg(
          '''' || replace(replace(mark || lexeme, '\', '\\'), '''', '''''')
          || '''' || coalesce(':' || array_to_string(positions, ','), ''), ' '), '')::tsvector
      FROM unnest(v)
    $$"""
POSTGRES_STEMMING = [
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS gallery_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS gallery_english_stem",
    "CREATE TEXT SEARCH DICTIONARY gallery_english_stem (TEMPLATE = snowball, LANGUAGE = english)",
    "CREATE TEXT SEARCH CONFIGURATION gallery_english (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION gallery_english "
    "ALTER MAPPING REPLACE english_stem WITH gallery_english_stem",
    _MARKED,
    _search_vector_function(
        f"NEW.search_bucketed := gallery_bucketed(NEW.search_vector, NEW.id >> {BUCKET_BITS});",
        stemmed=True,
    ),
]
# Every row again through the trigger (with the GIN indexes dropped first and made after).
POSTGRES_REINDEX = "UPDATE gallery_image SET prompt = prompt"
POSTGRES_STEMMING_DROP = [
    _search_vector_function(
        f"NEW.search_bucketed := gallery_bucketed(NEW.search_vector, NEW.id >> {BUCKET_BITS});"
    ),
    "DROP FUNCTION IF EXISTS gallery_marked(tsvector, text)",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS gallery_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS gallery_english_stem",
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
            for table in SQLITE_TABLES:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def drop_index(schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, SQLITE_DROP, POSTGRES_DROP):
        schema_editor.execute(sql, params=None)


def _statements(vendor: str, sqlite: list[str], postgres: list[str]) -> list[str]:
    return {"sqlite": sqlite, "postgresql": postgres}.get(vendor, [])


def repair_sqlite_triggers(connection) -> bool:
    """Recreate FTS triggers a table rebuild dropped, and rebuild those tables (rows may have
    changed while the triggers were gone). Returns whether anything was repaired."""
    if connection.vendor != "sqlite":
        return False
    repaired = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        # A table its migration has not made yet (or reversed) is left alone.
        for table in (t for t in SQLITE_TABLES if t in present):
            missing = [sql for name, sql in _sqlite_triggers(table).items() if name not in present]
            for sql in missing:
                cursor.execute(sql)
            if missing:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
                repaired = True
    return repaired
