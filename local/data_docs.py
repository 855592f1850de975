"""great-expectations' Data Docs, made to open offline and privately.

Its pages load their stylesheets and scripts from public CDNs (Bootstrap, bootstrap-table, jQuery, Font Awesome,
Vega, ...) and a logo from the vendor's bucket with the data context id in the URL, each time they are opened. Here
each of those assets comes from its npm package instead (pinned in package.json and package-lock.json, installed
by `make setup` into node_modules/), copied into the site's own static/vendor/ folder, and each page points at its
copy; the logo is great-expectations' own, from its Python package. If node_modules/ is missing (no npm on the
machine), the external references are removed instead: the pages stay private, unstyled.

Written by hand because great-expectations has no offline switch for its page templates (they hard-code the CDN
URLs) and no tool rewrites them.
"""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
# The CDN address each page template uses → the file in its npm package (node_modules/<package>/...).
ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    # the templates ask for 1.19.0 of the extension's stylesheets and 1.19.1 of its script: 1.19.1 serves both
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
}  # fmt: skip
FOLDERS = ["@fortawesome/fontawesome-free/webfonts"]  # what a stylesheet loads relative to itself
# What still makes a page load something: a stylesheet, script, image or frame from another host.
EXTERNAL = re.compile(r"""<(?:link|script|img|iframe)\b[^>]*?\b(?:href|src)=["'](https?:)?//[^"']*["'][^>]*>""", re.I)
# A CDN tag's subresource integrity and CORS mode: a page opened from a file cannot load a script in CORS mode, and
# the hashes are the CDN builds'.
INTEGRITY = re.compile(r"""\s(?:integrity|crossorigin)=(?:"[^"]*"|'[^']*'|[\w-]+)""", re.I)
FAVICON = re.compile(r"""href=["'][^"']*static/images/favicon\.ico["']""")
LOGO = re.compile(r"""https://great-expectations-web-assets\.s3[^"']*?/(?P<name>[\w.-]+\.(?:png|svg))[^"']*""")


def localize(site: Path, node_modules: Path = NODE_MODULES) -> list[Path]:
    """Point every page under `site` (one Data Docs site, or a folder of them) at local copies of its assets, kept
    once in `site`/static/vendor; returns the pages rewritten."""
    vendored = node_modules.is_dir() and all((node_modules / path).is_file() for path in ASSETS.values())
    vendor = site / "static" / "vendor"
    if vendored:
        for path in {*ASSETS.values(), *FOLDERS}:
            source, target = node_modules / path, vendor / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, target)
    images = resources.files("great_expectations").joinpath("render", "view", "static", "images")
    (site / "static" / "images").mkdir(parents=True, exist_ok=True)
    (site / "static" / "images" / "favicon.ico").write_bytes(images.joinpath("favicon.ico").read_bytes())
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        up = "../" * (len(page.relative_to(site).parts) - 1)
        for url, path in ASSETS.items():
            text = text.replace(url, f"{up}static/vendor/{path}")

        def logo(match: re.Match[str], up: str = up) -> str:
            name = match["name"] if images.joinpath(match["name"]).is_file() else "logo-long.png"
            (site / "static" / "images" / name).write_bytes(images.joinpath(name).read_bytes())
            return f"{up}static/images/{name}"

        text = INTEGRITY.sub("", LOGO.sub(logo, text))
        # great-expectations points a validation page's favicon one folder short of its static/: the site's copy
        text = FAVICON.sub(f'href="{up}static/images/favicon.ico"', text)
        text = EXTERNAL.sub("", text)  # anything left (no npm on this machine): dropped, never fetched
        page.write_text(text, encoding="utf-8")
    return pages


def external_references(page: Path) -> list[str]:
    """What in a page would still be fetched from another host (empty once localized)."""
    return [match.group(0) for match in EXTERNAL.finditer(page.read_text(encoding="utf-8"))]
