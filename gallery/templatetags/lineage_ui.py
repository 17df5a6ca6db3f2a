from django import template

from .. import access, lineage

register = template.Library()


@register.inclusion_tag("gallery/lineage_panel.html", takes_context=True)
def lineage_panel(context, image):
    """Parents and children of `image`, as far as the viewer may see them."""
    return {
        "image": image,
        **lineage.neighbours(image, access.visible_images(context["request"].user)),
    }
