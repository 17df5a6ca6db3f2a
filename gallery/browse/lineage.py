"""Which image came from which: parents (inputs, the original of a composite) and children,
as far as the viewer may see. An image the viewer may not see stays in the tree as "a private
image" (or "a deleted image", when it is in the trash or gone) without a link, a thumbnail,
or anything beyond it, so the chain of other people's images is never broken."""

from dataclasses import dataclass, field

from gallery.models import Image, ImageParent

MAX_NODES = 300


@dataclass
class Node:
    image: Image | None  # None: exists, but the viewer may not see it (or it was deleted)
    role: str
    branches: list["Node"] = field(default_factory=list)
    deleted: bool = False  # in the trash or deleted forever: "a deleted image"


def _node(other: Image, seen: set[int], role: str) -> Node:
    deleted = other.trashed_at is not None
    return Node(other if other.pk in seen else None, role, deleted=deleted)


def neighbours(image: Image, visible) -> dict:
    """The image's parents and children, one level each way."""
    parents = ImageParent.objects.filter(child=image).select_related("parent")
    children = ImageParent.objects.filter(parent=image).select_related("child")
    seen = _visible_ids(
        visible, [link.parent_id for link in parents] + [c.child_id for c in children]
    )
    return {
        "parents": [_node(link.parent, seen, link.get_role_display()) for link in parents],
        "children": [_node(link.child, seen, _as(link)) for link in children.order_by("child_id")],
    }


def tree(image: Image, visible) -> dict:
    """Every ancestor (parents of parents...) and every descendant, as two forests."""
    return {
        "ancestors": _grow(image, visible, up=True),
        "descendants": _grow(image, visible, up=False),
    }


def _grow(root: Image, visible, *, up: bool) -> list[Node]:
    """Breadth first, one query per generation, stopping at MAX_NODES and at cycles."""
    top = Node(root, "")
    frontier = {root.pk: [top]}
    visited = {root.pk}
    count = 0
    while frontier and count < MAX_NODES:
        if up:
            links = ImageParent.objects.filter(child_id__in=frontier).select_related("parent")
            pairs = [(link.child_id, link.parent, link) for link in links]
        else:
            links = ImageParent.objects.filter(parent_id__in=frontier).select_related("child")
            pairs = [(link.parent_id, link.child, link) for link in links.order_by("child_id")]
        seen = _visible_ids(visible, [other.pk for _, other, _ in pairs])
        following: dict[int, list[Node]] = {}
        for here, other, link in pairs:
            if count >= MAX_NODES:
                break
            count += 1
            role = link.get_role_display() if up else _as(link)
            node = _node(other, seen, role)
            for holder in frontier[here]:
                holder.branches.append(node)
            # Past a deleted image the chain goes on: what lies beyond may be visible.
            if (node.image is not None or node.deleted) and other.pk not in visited:
                visited.add(other.pk)
                following.setdefault(other.pk, []).append(node)
        frontier = following
    return top.branches


def _as(link: ImageParent) -> str:
    """How a child used its parent: "uses it as input (masked)"."""
    return f"uses it as {link.get_role_display().lower()}"


def _visible_ids(visible, ids: list[int]) -> set[int]:
    return set(visible.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
