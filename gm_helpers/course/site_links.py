"""The built site's links, checked offline (Sphinx's ``linkcheck`` needs the network).

    python -m gm_helpers.course site --check [docs/_build/html]

Every ``href`` and ``src`` of every HTML page, and every ``url(...)`` of every stylesheet, that
points into the site must name a file that exists, and its ``#fragment`` an ``id`` (or ``name``)
in that page. Links out of the site are not fetched, but none may be a placeholder address
(``hosting.find_placeholders``), and no page may *load* anything from the network (a script,
stylesheet, image or font from a CDN): the site must work offline.
"""
from __future__ import annotations

import html.parser
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gm_helpers.course import hosting

# (tag, attribute) pairs that the browser fetches when the page loads, not when a link is clicked
LOADED = {("script", "src"), ("img", "src"), ("link", "href"), ("iframe", "src"), ("source", "src"),
          ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}
LINK_RELS_NOT_LOADED = {"canonical", "alternate", "author", "license", "search", "index", "next", "prev"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str, str]] = []   # (tag, attribute, url, rel)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src", "data") if tag == "object" else ("href", "src"):
            if attrs.get(key) is not None:
                self.links.append((tag, key, attrs[key].strip(), attrs.get("rel") or ""))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(errors="replace"))
    return page


def _target(base: Path, url: str, root: Path) -> tuple[Path | None, str]:
    """(the local file a relative URL names, its fragment); file None for a link to itself."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path:
        return None, unquote(parts.fragment)
    target = (root / path.lstrip("/")) if path.startswith("/") else (base.parent / path)
    target = Path(*target.parts).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def check(site: Path) -> list[str]:
    """Every problem with the built site's links; empty when all is well."""
    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        return [f"{site}: no index.html (build the site first: make site)"]
    # the theme copies its Jinja macros (*.html) into _static: templates, not pages
    pages = {p.resolve(): _parse(p) for p in sorted(site.rglob("*.html"))
             if "_static" not in p.relative_to(site).parts}
    problems = []

    def local(source: Path, url: str, needs_id: bool = True) -> None:
        target, fragment = _target(source, url, site)
        where = f"{source.relative_to(site)}: {url}"
        if target is None:
            target = source
        elif not target.is_relative_to(site):
            problems.append(f"{where}: points outside the site")
            return
        elif not target.exists():
            problems.append(f"{where}: no such file")
            return
        if fragment and needs_id and target in pages and fragment not in pages[target].ids:
            problems.append(f"{where}: no id {fragment!r} in {target.relative_to(site)}")

    for source, page in pages.items():
        for tag, attribute, url, rel in page.links:
            scheme = urlsplit(url).scheme.lower()
            if scheme in ("http", "https") or url.startswith("//"):
                problems += [f"{source.relative_to(site)}: placeholder address {p!r} in {url}"
                             for p in hosting.find_placeholders(url)]
                loaded = (tag, attribute) in LOADED and not (
                    tag == "link" and set(rel.lower().split()) & LINK_RELS_NOT_LOADED)
                if loaded:
                    problems.append(f"{source.relative_to(site)}: <{tag} {attribute}={url!r}> loads "
                                    "from the network: the site must work offline")
            elif scheme in ("mailto", "javascript", "data", "tel"):
                continue
            elif scheme:
                problems.append(f"{source.relative_to(site)}: {url}: unknown scheme {scheme!r}")
            elif url in ("", "#"):
                continue
            else:
                local(source, url)
    for sheet in sorted(site.rglob("*.css")):
        for url in CSS_URL.findall(sheet.read_text(errors="replace")):
            scheme = urlsplit(url).scheme.lower()
            if scheme in ("http", "https") or url.startswith("//"):
                problems.append(f"{sheet.relative_to(site)}: url({url}) loads from the network")
            elif not scheme:
                local(sheet.resolve(), url, needs_id=False)
    return problems
