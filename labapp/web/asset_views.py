"""Course diagrams: /course-assets/<course>/<module>/images/<name>.svg|png, read from settings.COURSES_DIR.

Served as images with a policy that forbids everything (an SVG opened on its own can run no script,
load nothing and is sandboxed), never inlined into pages. The path is validated strictly: slugs for
the course and module, a plain file name with an .svg or .png extension, and the resolved file must
lie inside that module's images/ folder (no traversal, no symlinks out).
"""

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(svg|png)$")
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def asset_path(course_slug: str, module_slug: str, name: str) -> tuple[Path, str]:
    """The file to serve and its content type, or Http404."""
    match = NAME.match(name)
    if not (SLUG.match(course_slug) and SLUG.match(module_slug) and match):
        raise Http404("no such image")
    root = Path(settings.COURSES_DIR).resolve()
    folder = (root / course_slug / module_slug / "images").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not folder.is_relative_to(root) or not path.is_file():
        raise Http404("no such image")
    return path, CONTENT_TYPES[match.group(1)]


@require_safe
def course_asset(request, course_slug, module_slug, name):
    path, content_type = asset_path(course_slug, module_slug, name)
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = ASSET_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
