"""Organising in a real browser (issue 18, items 1 and 2): delete with Undo, the Trash
(restore, delete forever), the gallery's selection bar, boards (rename, delete, covers) and
dragging tiles onto a board in the sidebar."""

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up

pytestmark = pytest.mark.browser


def make_images(stack, user: str, n: int, word: str) -> list[tuple[int, Path]]:
    """n images of `user`'s, made by the real worker through the stand-in; (id, file)."""
    done = stack.manage(
        "generate",
        f"a {word} on a hill",
        "--user",
        user,
        "--n",
        str(n),
        "--quality",
        "low",
        "--size",
        "1024x1024",
        "--wait",
    )
    found = re.findall(r"^image (\d+) (\S+)$", done.stdout, re.MULTILINE)
    assert len(found) == n, done.stdout + done.stderr
    return [(int(pk), Path(where)) for pk, where in found]


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def person(page) -> str:
    name = f"olga{secrets.token_hex(3)}"
    sign_up(page, name)
    page.on("dialog", lambda dialog: dialog.accept())  # "Move … to the trash?"
    return name


def test_delete_an_image_then_undo_it(page, stack):
    errors = watch_console(page)
    user = person(page)
    ((pk, original),) = make_images(stack, user, 1, "lighthouse")
    page.goto(f"/images/{pk}/")
    page.get_by_role("button", name="Delete").click()
    # Back on the gallery, without it, and a toast offers Undo.
    expect(page).to_have_url(re.compile(r"/$"))
    toast = page.locator(".toast[data-undo]")
    expect(toast).to_contain_text(f"Image {pk} moved to the trash.")
    expect(page.locator(f'.tile:has(.tile-link[data-id="{pk}"])')).to_have_count(0)
    toast.get_by_role("button", name="Undo").click()
    expect(page).to_have_url(re.compile(rf"/images/{pk}/$"))
    expect(page.get_by_role("heading", name=f"Image {pk}")).to_be_visible()
    assert original.exists()
    assert errors == []


def test_delete_then_restore_from_the_trash_then_delete_forever(page, stack):
    errors = watch_console(page)
    user = person(page)
    (kept, _), (gone, gone_file) = make_images(stack, user, 2, "windmill")
    for pk in (kept, gone):
        page.goto(f"/images/{pk}/")
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(".toast[data-undo]")).to_contain_text(f"Image {pk}")
    page.goto("/trash/")
    expect(page.locator(".trash-item")).to_have_count(2)
    page.get_by_role("checkbox", name=f"Select image {kept}").check()
    page.get_by_role("button", name="Restore selected").click()
    expect(page.locator(".toast")).to_contain_text("1 image restored.")
    expect(page.locator(".trash-item")).to_have_count(1)
    page.goto(f"/?who={user}")
    expect(page.locator(f'.tile:has(.tile-link[data-id="{kept}"])')).to_have_count(1)
    expect(page.locator(f'.tile:has(.tile-link[data-id="{gone}"])')).to_have_count(0)

    # Deleting forever takes the original (and its thumbnails) out of storage.
    assert gone_file.exists()
    page.goto("/trash/")
    page.get_by_role("checkbox", name=f"Select image {gone}").check()
    page.get_by_role("button", name="Delete selected forever").click()
    expect(page.locator(".toast")).to_contain_text("1 image deleted forever.")
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    assert not gone_file.exists()
    assert page.request.get(f"/images/{gone}/original").status == 404
    assert errors == []


def test_select_many_then_board_star_private_and_delete(page, stack):
    errors = watch_console(page)
    user = person(page)
    made = [pk for pk, _ in make_images(stack, user, 4, "paper boat")]
    page.goto("/boards/")
    page.get_by_label("New board").fill("Boats")
    page.get_by_role("button", name="Create board").click()
    page.goto(f"/?who={user}")
    bar = page.get_by_role("form", name="Selected images")
    expect(bar).to_be_hidden()
    # A click ticks one tile; a shift-click ticks the range up to the next one clicked.
    newest, *_, oldest = made[::-1]
    page.get_by_role("checkbox", name=f"Select image {newest}").click()
    expect(bar).to_contain_text("1 image selected")
    page.get_by_role("checkbox", name=f"Select image {made[1]}").click(modifiers=["Shift"])
    expect(bar).to_contain_text("3 images selected")

    bar.get_by_role("button", name="Add to board").click()
    expect(page.locator(".toast").last).to_contain_text("Added 3 images to Boats.")
    expect(bar).to_be_hidden()  # done: the selection is cleared

    # The keyboard alone: Tab to a box, Space ticks it.
    page.get_by_role("checkbox", name=f"Select image {made[1]}").focus()
    page.keyboard.press("Space")
    page.get_by_role("checkbox", name=f"Select image {made[2]}").focus()
    page.keyboard.press("Space")
    expect(bar).to_contain_text("2 images selected")
    bar.get_by_role("button", name="Star").click()
    for pk in made[1:3]:
        expect(page.get_by_role("button", name=f"Star image {pk}")).to_have_attribute(
            "aria-pressed", "true"
        )

    page.get_by_role("checkbox", name=f"Select image {oldest}").check()
    bar.get_by_role("button", name="Make private").click()
    expect(page.locator(".toast").last).to_contain_text("Made private 1 image.")
    page.goto(f"/images/{oldest}/")
    expect(page.locator(".visibility-state")).to_have_text("Private")

    page.goto(f"/?who={user}")
    page.get_by_role("checkbox", name=f"Select image {made[2]}").check()
    page.get_by_role("checkbox", name=f"Select image {made[3]}").check()
    bar.get_by_role("button", name="Delete").click()
    expect(page.locator(".toast[data-undo]")).to_contain_text("Moved to the trash 2 images.")
    expect(page.locator("#grid .tile")).to_have_count(2)
    page.goto("/boards/")
    expect(page.locator(".board-card")).to_contain_text("1 image")  # two of three deleted
    assert errors == []


def test_rename_and_delete_a_board_and_remove_an_image_from_it(page, stack):
    errors = watch_console(page)
    user = person(page)
    ((pk, _),) = make_images(stack, user, 1, "teapot")
    page.goto(f"/images/{pk}/")
    page.get_by_label("New board with this image").fill("Kitchen")
    page.get_by_role("button", name="Create board").click()
    expect(page.locator(".toast")).to_contain_text("Added to the new board “Kitchen”.")
    expect(page.locator(".on-boards")).to_contain_text("Kitchen")

    page.goto("/boards/")
    card = page.locator(".board-card", has_text="Kitchen")
    expect(card).to_contain_text("1 image")
    expect(card.locator(".board-cover img")).to_have_attribute(
        "src", f"/images/{pk}/thumbnail/256.webp"
    )
    card.get_by_text("Manage").click()
    card.get_by_label("Name").fill("Pantry")
    card.get_by_role("button", name="Rename").click()
    expect(page.locator(".toast")).to_contain_text("Renamed to “Pantry”.")
    expect(page.get_by_role("heading", name="Pantry")).to_be_visible()

    page.goto(f"/images/{pk}/")
    page.get_by_role("button", name="Remove from Pantry").click()
    expect(page.locator(".toast")).to_contain_text("Removed from Pantry.")
    expect(page.get_by_text("Not on any of your boards.")).to_be_visible()

    page.goto("/boards/")
    card = page.locator(".board-card", has_text="Pantry")
    expect(card).to_contain_text("0 images")
    card.get_by_text("Manage").click()
    card.get_by_role("button", name="Delete board").click()
    expect(page.locator(".toast")).to_contain_text("Board “Pantry” deleted")
    expect(page.locator(".board-card")).to_have_count(0)
    page.goto(f"/images/{pk}/")  # the image itself stays
    expect(page.get_by_role("heading", name=f"Image {pk}")).to_be_visible()
    assert errors == []


def test_drag_tiles_onto_a_board_in_the_sidebar(page, stack):
    errors = watch_console(page)
    user = person(page)
    made = [pk for pk, _ in make_images(stack, user, 3, "kite")]
    page.goto("/boards/")
    page.get_by_label("New board").fill("Sky")
    page.get_by_role("button", name="Create board").click()
    page.goto(f"/?who={user}")
    target = page.locator(".board-sidebar .board-drop", has_text="Sky")
    # One tile, dragged by itself.
    page.locator(f'.tile:has(.tile-link[data-id="{made[0]}"])').drag_to(target)
    expect(page.locator(".toast").last).to_contain_text("Added 1 image to Sky.")
    # Two selected tiles travel together when one of them is dragged.
    page.get_by_role("checkbox", name=f"Select image {made[1]}").check()
    page.get_by_role("checkbox", name=f"Select image {made[2]}").check()
    page.locator(f'.tile:has(.tile-link[data-id="{made[2]}"])').drag_to(target)
    expect(page.locator(".toast").last).to_contain_text("Added 2 images to Sky.")
    target.get_by_role("link", name="Sky").click()
    expect(page.locator("#grid .tile")).to_have_count(3)
    assert errors == []
