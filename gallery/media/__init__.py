"""Image files: `storage` keeps originals byte-for-byte and derives thumbnails; `serving`
sends a stored file to a browser once a view has authorised it. Callers use the names below."""

from gallery.media.storage import (  # noqa: F401 (the room's public names)
    CONTENT_TYPES,
    EXTENSIONS,
    OUTPUT_CONTENT_TYPES,
    OUTPUT_EXTENSIONS,
    SVG,
    THUMBNAIL_WIDTHS,
    AtomicFileSystemStorage,
    NotAnImage,
    StoredImage,
    check_dimensions,
    delete_file,
    delete_partial,
    delete_partials,
    inspect,
    is_svg,
    make_thumbnails,
    open_file,
    read,
    store,
    store_derived,
    store_derived_as,
    store_original,
    store_output,
    store_partial,
)
