"""Gallery search grammar, filters, keyset pagination, bad input, stars and boards.

Runs on the database in DATABASE_URL: SQLite (FTS5) by default; for PostgreSQL (tsvector):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gallery_room \
        pytest tests/unit/test_gallery_search.py
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gallery import access, browse
from gallery.browse import boards, page, search
from gallery.models import Board, BoardImage, Image

pytestmark = pytest.mark.django_db

GALLERY = "/"
BAD_QUERIES = [
    '"unbalanced',
    'fox "',
    '"',
    "AND",
    "OR",
    "NOT",
    "fox OR",
    "- -",
    "-",
    "*",
    "**",
    "fox*:",
    "NEAR(",
    "NEAR(fox cat, 2)",
    "fox AND (cat",
    "col:fox",
    "{prompt}: fox",
    "^fox",
    "fox + cat",
    "'; DROP TABLE gallery_image; --",
    "x" * 10_000,
    "fox " * 3_000,
    "fox\x00cat\x07\x1b[31m",
    "\u202efox",
    "日本語の猫",
    "Ελληνικά κείμενα",
    "🦊🔥",
    "🦊 fox",
    "café",
    "a*",
    "\\",
    "%_%",
]

_made = 0


def make_image(owner, prompt, **fields) -> Image:
    """An Image row without files: the gallery only needs its fields."""
    global _made
    _made += 1
    values = {
        "owner": owner,
        "prompt": prompt,
        "file": f"originals/x/{_made}.png",
        "sha256": f"{_made:064x}",
        "content_type": "image/png",
        "byte_size": 1000,
        "width": 1024,
        "height": 1024,
        "thumbnail": "t.webp",
        "thumbnail_small": "s.webp",
        "thumbnail_width": 512,
        "thumbnail_height": 512,
        "model": "gpt-image-1",
        "quality": "high",
        "background": "opaque",
        **fields,
    }
    return Image.objects.create(**values)


def found(query: str) -> set[str]:
    return set(Image.objects.search(query).values_list("prompt", flat=True))


def gallery_ids(client, **params) -> list[int]:
    html = client.get(GALLERY, params).content.decode()
    return [int(pk) for pk in re.findall(r'data-id="(\d+)"', html)]


@pytest.fixture
def prompts(alice, bob):
    make_image(alice, "A red fox in the snow at dusk")
    make_image(alice, "a snow fox, red scarf", revised_prompt="An arctic fox wearing a scarf")
    make_image(bob, "Blue whale in a deep ocean")
    make_image(bob, "Cyberpunk city street at night, neon")
    make_image(bob, "Café terrace in Paris, watercolor")
    make_image(alice, "Don't panic: a towel on a beach")


# --- the grammar


def test_words_are_anded():
    query = search.parse("red fox")
    assert [t.pieces for t in query.terms] == [("red",), ("fox",)]
    assert (
        search.fts5_expression(query) == '({prompt revised_prompt owner_name} : ("red" AND "fox"))'
    )
    assert search.tsquery(query.terms) == "('red') & ('fox')"


def test_phrase_prefix_and_exclusion_are_understood():
    query = search.parse('"Red Fox" cyber* -night -"deep sea"')
    assert [str(t) for t in query.terms] == ['"red fox"', "cyber*", "-night", '-"deep sea"']
    assert search.fts5_expression(query) == (
        '({prompt revised_prompt owner_name} : ((("red fox" AND "cyber" *) NOT "night") '
        'NOT "deep sea"))'
    )
    assert search.tsquery(query.terms) == (
        "('red' <-> 'fox') & ('cyber':*) & !('night') & !('deep' <-> 'sea')"
    )


def test_unbalanced_quote_runs_to_the_end():
    assert [t.pieces for t in search.parse('fox "red sky').terms] == [("fox",), ("red", "sky")]


def test_operators_typed_as_words_are_plain_words():
    query = search.parse("fox NEAR( AND cat OR")
    assert [t.pieces for t in query.terms] == [("fox",), ("near",), ("and",), ("cat",), ("or",)]


def test_symbols_only_give_a_message_and_no_search():
    query = search.parse("🦊 *")
    assert not query
    assert "symbols and emoji" in query.messages[0]


def test_only_excluded_words_is_refused_with_a_message():
    query = search.parse("-night")
    assert not query
    assert "excluded" in query.messages[0]


def test_one_letter_prefix_is_searched_as_a_word():
    query = search.parse("a*")
    assert query.terms[0].prefix is False
    assert "at least 2 letters" in query.messages[0]


def test_long_queries_are_cut_with_a_message():
    query = search.parse("x" * 10_000)
    assert len(query.terms[0].pieces[0]) == search.MAX_LENGTH
    assert "first 1,000 characters" in query.messages[0]
    many = search.parse(" ".join(f"w{i}" for i in range(40)))
    assert len(many.terms) == search.MAX_TERMS
    assert any("first 16 words" in m for m in many.messages)


@pytest.mark.parametrize("text", BAD_QUERIES)
def test_engine_expressions_only_ever_hold_quoted_letters_and_digits(text):
    query = search.parse(text)
    if query:
        expression = search.fts5_expression(query)
        inner = expression.removeprefix("({prompt revised_prompt owner_name} : ")
        quoted = re.findall(r'"([^"]*)"', inner)
        assert all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", q) for q in quoted), expression
        assert re.fullmatch(r"[()\s*]*(AND|NOT|[()\s*])*", re.sub(r'"[^"]*"', "", inner))


def test_filters_become_facet_tokens_the_index_spells_the_same_way():
    assert search.facet("m", "gpt-image-1.5") == "zzmgptimage15"
    assert search.facet("m", "naïve model") is None  # not spelled the same in SQL: no facet
    query = search.parse("fox")
    query.facets = ["zzqhigh", "zzfpng"]
    assert search.fts5_expression(query) == (
        '((({prompt revised_prompt owner_name} : ("fox")) AND facets : "zzqhigh") '
        'AND facets : "zzfpng")'
    )


# --- searching the database


def test_search_finds_words_phrases_prefixes_and_exclusions(prompts):
    assert found("fox") == {"A red fox in the snow at dusk", "a snow fox, red scarf"}
    assert found('"red fox"') == {"A red fox in the snow at dusk"}
    assert found('"fox snow"') == set()
    assert found("cyber*") == {"Cyberpunk city street at night, neon"}
    assert found("fox -dusk") == {"a snow fox, red scarf"}
    assert found("FOX SNOW") == {"A red fox in the snow at dusk", "a snow fox, red scarf"}


def test_plain_words_are_stemmed(alice):
    make_image(alice, "Three foxes running through the snow")
    make_image(alice, "a fox runs home")
    make_image(alice, "a painting of a sleeping cat")
    both = {"Three foxes running through the snow", "a fox runs home"}
    assert found("fox") == both
    assert found("foxes") == both
    assert found("running") == both
    assert found("run fox") == both
    assert found("paintings cats") == {"a painting of a sleeping cat"}
    assert found("snow -foxes") == set()
    assert found("the") == {"Three foxes running through the snow"}  # no stop words


def test_quoted_words_phrases_and_prefixes_match_as_typed(alice):
    make_image(alice, "Three foxes running through the snow")
    make_image(alice, "a fox runs home")
    assert found('"foxes"') == {"Three foxes running through the snow"}
    assert found('"fox runs"') == {"a fox runs home"}
    assert found('"foxes run"') == set()
    assert found("runn*") == {"Three foxes running through the snow"}
    assert found('fox -"fox runs"') == {"Three foxes running through the snow"}
    assert found("fox -runn*") == {"a fox runs home"}
    assert found('"FOXES" running') == {"Three foxes running through the snow"}
    assert found('"a fox" -snow') == {"a fox runs home"}
    assert found('"a fox" -running') == set()  # an excluded plain word is stemmed: "runs"


def test_search_covers_revised_prompts_and_owner_names(prompts):
    assert found("arctic") == {"a snow fox, red scarf"}
    assert found("bob whale") == {"Blue whale in a deep ocean"}
    assert len(found("alice")) == 3


def test_renaming_a_person_updates_the_index(prompts, bob):
    bob.username = "roberta"
    bob.save()
    assert found("bob") == set()
    assert len(found("roberta")) == 3


def test_editing_and_deleting_images_updates_the_index(prompts):
    image = Image.objects.get(prompt__startswith="Blue whale")
    Image.objects.filter(pk=image.pk).update(prompt="Orca in a fjord")
    assert found("whale") == set()
    assert found("orca") == {"Orca in a fjord"}
    Image.objects.filter(pk=image.pk).delete()
    assert found("orca") == set()


def test_apostrophes_and_accents(prompts):
    assert found("don't") == {"Don't panic: a towel on a beach"}
    if search.connections["default"].vendor == "sqlite":  # FTS5 folds accents
        assert found("cafe") == {"Café terrace in Paris, watercolor"}
    assert found("café") == {"Café terrace in Paris, watercolor"}


@pytest.mark.parametrize("text", BAD_QUERIES)
def test_any_typed_query_gives_a_page_never_an_error(alice_client, prompts, text):
    response = alice_client.get(GALLERY, {"q": text})
    assert response.status_code == 200


def test_empty_result_says_so(alice_client, prompts):
    html = alice_client.get(GALLERY, {"q": "zebra"}).content.decode()
    assert "No images match “zebra”" in html


def test_relevance_order_on_request(alice_client, alice):
    make_image(alice, "fox fox fox fox fox")
    make_image(alice, "a long prompt about a meadow with flowers and a small fox far away")
    ids = gallery_ids(alice_client, q="fox", order="relevance")
    prompts = [Image.objects.get(pk=pk).prompt for pk in ids]
    assert prompts[0] == "fox fox fox fox fox"
    newest = gallery_ids(alice_client, q="fox")
    assert [Image.objects.get(pk=pk).prompt for pk in newest][0].startswith("a long")


def test_every_search_path_gives_the_same_pages(alice, bob, monkeypatch):
    """A page is found by FTS5 walking newest first (SQL confirming), by SQL walking its
    index with FTS5 checking each window (boards, stars), or by QuerySet.search(); with
    small pages the walks go round several times, and they must agree."""
    board = boards.create_board(owner=alice, name="All")
    made = []
    for i in range(130):
        owner = bob if i % 5 == 0 else alice
        visibility = "private" if i % 10 == 0 else "shared"  # bob's every other: hidden
        image = make_image(
            owner, f"sunset number {i}" + (" rare" if i % 7 == 0 else ""), visibility=visibility
        )
        made.append(image)
        if image.owner == alice or visibility == "shared":
            boards.add_to_board(board=board, image=image)
    visible = [i.pk for i in reversed(made) if i.owner == alice or i.visibility == "shared"]
    assert len(visible) == 117

    def by_queryset(text):
        matches = access.visible_images(alice).search(text).order_by("-id")
        return list(matches.values_list("pk", flat=True))

    for text in ("sunset", "rare sunset", "number"):
        expected = [pk for pk in visible if pk in set(by_queryset(text))]
        assert expected, text
        for page_size in (1, 7, 48):
            assert _all_pages(alice, {"q": text}, page_size) == expected
            assert _all_pages(alice, {"q": text, "board": board.pk}, page_size) == expected
        monkeypatch.setattr(search, "PROBE_LIMIT", 5)  # QuerySet.search's per-row check
        assert by_queryset(text) == expected
        monkeypatch.undo()


def test_filters_without_a_search_token_are_confirmed_by_sql(alice):
    """Dates have no FTS5 token: FTS5 offers the newest matches, SQL refuses the ones out of
    range, and the walk goes on until a page is full."""
    old = [make_image(alice, f"harbour {i}") for i in range(30)]
    Image.objects.filter(pk__in=[i.pk for i in old]).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    recent = [make_image(alice, f"harbour recent {i}") for i in range(3)]
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    before = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert _all_pages(alice, {"q": "harbour", "from": since}, 2) == [i.pk for i in reversed(recent)]
    assert _all_pages(alice, {"q": "harbour", "to": before}, 4) == [i.pk for i in reversed(old)]


def _all_pages(user, params, page_size=20) -> list[int]:
    seen, cursor = [], ""
    while True:
        page = browse.browse(user, {**params, "cursor": cursor}, page_size=page_size)
        seen.extend(image.pk for image in page.images)
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


# --- filters


@pytest.fixture
def varied(alice, bob):
    make_image(alice, "one", model="gpt-image-1", quality="low", source="generated")
    make_image(alice, "two", model="gpt-image-1-mini", background="transparent", source="edited")
    make_image(bob, "three", content_type="image/webp", width=1536, height=1024)
    make_image(bob, "four", source="upload")
    make_image(bob, "five", provenance_state="trusted", ai_generated=True)
    old = make_image(bob, "six")
    Image.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))


def prompts_for(user, **params) -> set[str]:
    return {image.prompt for image in browse.browse(user, params).images}


def test_each_filter_narrows(alice, varied):
    everything = {"one", "two", "three", "five", "six"}
    assert prompts_for(alice) == everything  # uploads hidden by default
    assert prompts_for(alice, who="mine") == {"one", "two"}
    assert prompts_for(alice, who="bob") == {"three", "five", "six"}
    assert prompts_for(alice, model="gpt-image-1-mini") == {"two"}
    assert prompts_for(alice, kind="edit") == {"two"}
    assert prompts_for(alice, kind="upload") == {"four"}
    assert prompts_for(alice, kind="all") == everything | {"four"}
    assert prompts_for(alice, size="1536x1024") == {"three"}
    assert prompts_for(alice, quality="low") == {"one"}
    assert prompts_for(alice, background="transparent") == {"two"}
    assert prompts_for(alice, format="webp") == {"three"}
    assert prompts_for(alice, provenance="trusted") == {"five"}
    assert prompts_for(alice, ai="yes") == {"five"}
    day = (timezone.now() - timedelta(days=40)).date()
    assert prompts_for(alice, **{"from": day.isoformat(), "to": day.isoformat()}) == {"six"}
    assert prompts_for(alice, q="th*", who="bob") == {"three"}


def test_filters_combine_with_search(alice, bob):
    make_image(bob, "fox in tall grass", quality="high")
    make_image(bob, "fox in the rain", quality="low")
    make_image(alice, "fox on a hill", quality="high")
    assert prompts_for(alice, q="fox", who="bob", quality="high") == {"fox in tall grass"}


@pytest.mark.parametrize(
    "params",
    [
        {"who": "nobody-by-that-name"},
        {"model": "gpt image; drop"},
        {"kind": "paintings"},
        {"size": "huge"},
        {"size": "99999999x1"},
        {"quality": "ultra"},
        {"background": "plaid"},
        {"format": "gif"},
        {"provenance": "blessed"},
        {"ai": "maybe"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
        {"board": "12abc"},
        {"board": "9" * 40},
        {"board": "²"},
        {"order": "random"},
        {"who": "a\x00b"},
    ],
)
def test_bad_filter_values_give_a_message_and_are_ignored(alice_client, alice, varied, params):
    response = alice_client.get(GALLERY, params)
    assert response.status_code == 200
    assert 'class="notice"' in response.content.decode()
    assert prompts_for(alice, **params) == prompts_for(alice)


# --- share URLs and the result count

EMPTY_FORM = {"q": "fox", "who": "", "model": "", "kind": "", "from": "", "starred": ""}


def test_form_submitted_without_javascript_redirects_to_a_url_without_empty_parameters(
    alice_client,
):
    response = alice_client.get(GALLERY, {**EMPTY_FORM, "quality": "low", "search": "1"})
    assert response.status_code == 302
    assert response.url == "/?q=fox&quality=low"
    everything_empty = alice_client.get(GALLERY, {"q": " ", "who": "", "search": "1"})
    assert everything_empty.url == "/"


def test_htmx_search_pushes_the_url_without_empty_parameters(alice_client):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"}
    response = alice_client.get(GALLERY, {**EMPTY_FORM, "search": "1"}, **headers)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/?q=fox"


def test_a_shared_link_with_empty_parameters_still_opens_as_it_is(alice_client):
    assert alice_client.get(GALLERY, EMPTY_FORM).status_code == 200


def count_shown(client, **params) -> str:
    html = client.get(GALLERY, params).content.decode()
    found = re.search(r'class="result-count">([^<]+)<', html)
    return found.group(1) if found else ""


def test_search_results_show_how_many_images_match(alice_client, alice, bob):
    for i in range(3):
        make_image(alice, f"heron {i}")
    make_image(alice, "egret")
    make_image(bob, "heron of bob's", visibility="private")  # not alice's to see
    assert count_shown(alice_client, q="heron") == "3 images"
    assert count_shown(alice_client, q="heron", order="relevance") == "3 images"
    assert count_shown(alice_client, q="egret") == "1 image"
    assert count_shown(alice_client) == ""  # no search, no count


def test_result_count_stops_at_the_limit(alice_client, alice, monkeypatch):
    monkeypatch.setattr(page, "COUNT_LIMIT", 5)
    for i in range(7):
        make_image(alice, f"gull {i}")
    assert count_shown(alice_client, q="gull") == "5+ images"
    assert count_shown(alice_client, q="gull", order="relevance") == "5+ images"
    monkeypatch.setattr(page, "COUNT_LIMIT", 7)
    assert count_shown(alice_client, q="gull") == "7 images"


def test_filters_survive_into_the_next_page_link(alice_client, alice):
    for i in range(browse.PAGE_SIZE + 2):
        make_image(alice, f"tree {i}", quality="low")
    html = alice_client.get(GALLERY, {"q": "tree", "quality": "low"}).content.decode()
    link = re.search(r'class="more" href="\?([^"]+)"', html).group(1)
    assert "q=tree" in link and "quality=low" in link and "cursor=" in link


# --- pagination


def test_pages_cover_everything_once_even_with_inserts_between_pages(alice_client, alice):
    for i in range(2 * browse.PAGE_SIZE + 5):
        make_image(alice, f"pine {i}")
    expected = list(Image.objects.order_by("-id").values_list("pk", flat=True))
    seen, url = [], GALLERY
    while url:
        html = alice_client.get(url).content.decode()
        seen.extend(int(pk) for pk in re.findall(r'data-id="(\d+)"', html))
        make_image(alice, "pine inserted while scrolling")  # lands above, never in later pages
        more = re.search(r'class="more" href="([^"]+)"', html)
        url = GALLERY + unescape(more.group(1)) if more else None
        assert len(seen) <= len(expected), "the pages went round in a circle"
    assert seen == expected


def test_images_with_equal_timestamps_are_neither_repeated_nor_skipped(alice):
    moment = timezone.now()
    made = [make_image(alice, f"twin {i}", created_at=moment).pk for i in range(25)]
    assert sorted(_all_pages(alice, {}, page_size=4)) == sorted(made)
    assert len(_all_pages(alice, {}, page_size=4)) == 25


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "1764100000000000.5",
        "1764100000000000.5:forgedsignature",
        "-1.-1:x",
        "９９.1:abc",
        "abc\x00def",
        "x" * 5000,
    ],
)
def test_forged_or_garbage_cursor_gives_the_first_page_with_a_message(alice_client, alice, cursor):
    make_image(alice, "only image")
    response = alice_client.get(GALLERY, {"cursor": cursor})
    assert response.status_code == 200
    html = response.content.decode()
    assert "showing the first page" in html
    assert "only image" in html


def test_a_cursor_signed_by_another_secret_is_refused(alice_client, alice, settings):
    image = make_image(alice, "kept")
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    forged = browse.encode_cursor(image.pk + 1)
    settings.SECRET_KEY = "back-" + "y" * 50
    assert browse.decode_cursor(forged) is None


def test_a_stale_cursor_for_a_deleted_image_still_continues(alice):
    made = [make_image(alice, f"leaf {i}").pk for i in range(10)]
    first = browse.browse(alice, {}, page_size=4)
    Image.objects.filter(pk=first.images[-1].pk).delete()
    rest = browse.browse(alice, {"cursor": first.next_cursor}, page_size=10)
    assert [i.pk for i in rest.images] == sorted(made, reverse=True)[4:]


def test_search_pages_follow_the_id_order_across_id_buckets(alice, monkeypatch):
    """PostgreSQL finds a search page in up to three steps (the newest ids row by row, the
    newest two id buckets through the bucketed index, then the plain index); SQLite walks
    FTS5. With matches spread over five buckets and windows of 2 and 8 ids, every step is
    taken; every page must follow the plain query's order, with nothing repeated or lost."""
    monkeypatch.setattr(page, "WINDOWS", (2, 8))
    ids = [3, 9, 65_530, 65_540, 131_000, 131_100, 196_700, 196_705, 196_800, 262_150]
    for n, pk in enumerate(ids):
        make_image(alice, f"kelp {'forest' if n % 2 else 'shore'} {n}", id=pk)
    for text in ("kelp", "forest", "kelp -forest", '"kelp forest"', "fore*"):
        matches = access.visible_images(alice).search(text).order_by("-id")
        expected = list(matches.values_list("pk", flat=True))
        assert expected, text
        for page_size in (1, 2, 4, 48):
            assert _all_pages(alice, {"q": text}, page_size) == expected, (text, page_size)


# --- stars and boards


def test_star_toggles_and_filters(alice_client, alice, bob):
    mine = make_image(bob, "starry night")
    make_image(bob, "not starred")
    url = reverse("gallery:image-star", args=[mine.pk])
    response = alice_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'aria-pressed="true"' in response.content.decode()
    assert prompts_for(alice, starred="1") == {"starry night"}
    alice_client.post(url)
    assert prompts_for(alice, starred="1") == set()


def test_star_on_a_missing_image_is_404(alice_client):
    assert alice_client.post(reverse("gallery:image-star", args=[999999])).status_code == 404


def test_boards_add_remove_browse_and_search(alice_client, alice, bob):
    one = make_image(bob, "lighthouse in a storm")
    make_image(bob, "lighthouse at noon")
    response = alice_client.post(reverse("gallery:boards"), {"name": "  Coast  "})
    board = Board.objects.get(owner=alice)
    assert board.name == "Coast"
    assert response.status_code == 302 and response.url.endswith(f"?board={board.pk}")
    alice_client.post(reverse("gallery:board-add"), {"board": board.pk, "image": one.pk})
    assert prompts_for(alice, board=str(board.pk)) == {"lighthouse in a storm"}
    assert prompts_for(alice, board=str(board.pk), q="storm") == {"lighthouse in a storm"}
    assert prompts_for(alice, board=str(board.pk), q="noon") == set()
    alice_client.post(reverse("gallery:board-remove"), {"board": board.pk, "image": one.pk})
    assert prompts_for(alice, board=str(board.pk)) == set()


def test_someone_elses_board_is_404_and_not_browsable(client, alice, bob):
    board = boards.create_board(owner=alice, name="Private")
    image = make_image(bob, "x")
    client.force_login(bob)
    response = client.post(reverse("gallery:board-add"), {"board": board.pk, "image": image.pk})
    assert response.status_code == 404
    assert not BoardImage.objects.exists()
    html = client.get(GALLERY, {"board": board.pk}).content.decode()
    assert "not yours" in html


def test_board_names_are_checked(alice_client, alice):
    response = alice_client.post(reverse("gallery:boards"), {"name": "   "})
    assert response.status_code == 400 and "Give the board a name" in response.content.decode()
    response = alice_client.post(reverse("gallery:boards"), {"name": "b" * 101})
    assert response.status_code == 400
    assert not Board.objects.exists()


def test_anonymous_people_are_sent_to_sign_in(client):
    for url in (GALLERY, reverse("gallery:boards")):
        assert client.get(url).status_code == 302
    assert client.post(reverse("gallery:image-star", args=[1])).status_code == 302
    assert client.post(reverse("gallery:board-add"), {"board": 1, "image": 1}).status_code == 302


def test_a_job_with_a_board_puts_its_outputs_on_it(alice, standin):
    from gallery import jobs

    board = boards.create_board(owner=alice, name="Inbox")
    job = jobs.create_job(owner=alice, prompt="a kite", model="gpt-image-1", n=2)
    job.board = board
    job.save(update_fields=["board"])
    jobs.run_job(jobs.claim_job(job.pk))
    assert set(board.images.values_list("job_id", flat=True)) == {job.pk}
    assert board.images.count() == 2


# --- fuzzing the query string

FIELDS = ["q", "cursor", "who", "model", "kind", "size", "quality", "background", "format"]
FIELDS += ["provenance", "ai", "from", "to", "starred", "board", "order"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=300), max_size=6))
def test_fuzzed_gallery_urls_never_fail(alice_client, params):
    response = alice_client.get(GALLERY, params)
    assert response.status_code == 200, params


# --- visibility


def test_private_images_never_reach_other_people(alice_client, alice, bob, monkeypatch):
    make_image(bob, "secret fox", visibility="private")
    shared = make_image(bob, "public fox")
    make_image(alice, "my own private fox", visibility="private")
    assert prompts_for(alice, q="fox") == {"public fox", "my own private fox"}
    assert prompts_for(alice, q="secret") == set()
    assert prompts_for(alice, who="bob") == {"public fox"}
    assert prompts_for(alice, q="fox", order="relevance") == {"public fox", "my own private fox"}
    monkeypatch.setattr(search, "PROBE_LIMIT", 0)  # the windowed walk too
    assert prompts_for(alice, q="fox") == {"public fox", "my own private fox"}
    assert "secret" not in alice_client.get(GALLERY, {"q": "fox"}).content.decode()
    assert shared.pk in gallery_ids(alice_client, q="fox")


def test_full_text_candidates_are_only_what_the_person_may_see(alice, bob, monkeypatch):
    """In a studio where most images are private, the full-text index itself soon leaves out
    other people's private images (SQLite: after one batch mostly refused, the visibility
    facet joins the match), so a page does not wade through matches SQL would refuse."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL checks visibility on the rows it reads")
    hidden = {make_image(bob, f"moss {i}", visibility="private").pk for i in range(60)}
    visible = [make_image(alice, "moss mine", visibility="private"), make_image(bob, "moss")]
    offered = []
    newest_ids = search.sqlite_newest_ids

    def recording(*args, **kwargs):
        ids = newest_ids(*args, **kwargs)
        offered.extend(ids)
        return ids

    monkeypatch.setattr(search, "sqlite_newest_ids", recording)
    assert _all_pages(alice, {"q": "moss"}, page_size=1) == [i.pk for i in reversed(visible)]
    first_batch = 3  # page size 1: two wanted, and half as many again
    assert offered and len(hidden & set(offered)) <= first_batch


def test_private_images_cannot_be_starred_or_boarded_by_others(alice_client, alice, bob):
    hidden = make_image(bob, "hidden", visibility="private")
    board = boards.create_board(owner=alice, name="Mine")
    assert alice_client.post(reverse("gallery:image-star", args=[hidden.pk])).status_code == 404
    response = alice_client.post(
        reverse("gallery:board-add"), {"board": board.pk, "image": hidden.pk}
    )
    assert response.status_code == 404
    assert not BoardImage.objects.exists()


def test_an_image_made_private_later_leaves_other_peoples_boards_and_stars(alice, bob):
    image = make_image(bob, "was shared")
    board = boards.create_board(owner=alice, name="Picks")
    boards.add_to_board(board=board, image=image)
    boards.toggle_favourite(user=alice, image=image)
    Image.objects.filter(pk=image.pk).update(visibility="private")
    assert prompts_for(alice, board=str(board.pk)) == set()
    assert prompts_for(alice, starred="1") == set()


# --- the create page's board choice


def test_create_page_offers_only_my_boards_and_records_the_choice(alice_client, alice, bob):
    from gallery.models import Job

    mine = boards.create_board(owner=alice, name="Inbox")
    theirs = boards.create_board(owner=bob, name="Bob's")
    html = alice_client.get(reverse("gallery:create")).content.decode()
    assert "Inbox" in html and "Bob&#x27;s" not in html and "Bob's" not in html
    form = {"prompt": "a kite", "model": "gpt-image-1", "n": 1, "size": "1024x1024"}
    form |= {"quality": "low", "background": "auto", "output_format": "png"}
    form |= {"moderation": "auto"}
    alice_client.post(reverse("gallery:create"), {**form, "board": mine.pk})
    assert Job.objects.get().board == mine
    response = alice_client.post(reverse("gallery:create"), {**form, "board": theirs.pk})
    assert response.status_code == 400
    assert Job.objects.count() == 1
