"""Finding the contact page: links on the page, then sitemaps, then common paths. Bounded.

The cheap work (robots.txt, sitemap.xml) is done with httpx, through the same proxy as the
browser; only pages that may hold the form are opened in the browser.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

import httpx

from audit.models import BrowserSettings, site_of
from probes import roles
from probes.browser import proxy_setting

log = logging.getLogger(__name__)

MAX_LINKS = 3
MAX_SITEMAP_PAGES = 3
MAX_COMMON_PATHS = 6
MAX_SITEMAPS = 4
LOC_RE = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)


def link_candidates(links: list[dict[str, object]], page_url: str, seen: set[str]) -> list[str]:
    site = site_of(page_url)
    ranked = roles.rank_links(links, site)  # type: ignore[arg-type]
    out = []
    for _, url in ranked:
        if url not in seen and url.split("#")[0] != page_url.split("#")[0]:
            out.append(url)
    return out[:MAX_LINKS]


def _client(settings: BrowserSettings, block_outside: bool) -> httpx.AsyncClient:
    proxy = proxy_setting(settings)
    return httpx.AsyncClient(
        timeout=min(10.0, settings.timeout_s),
        follow_redirects=True,
        verify=not settings.ignore_https_errors,
        proxy=proxy["server"] if proxy else None,
        trust_env=False,
        headers={"User-Agent": "Mozilla/5.0 (compatible; contact-audit)"},
    )


def _local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("127.0.0.1", "localhost", "::1")


async def sitemap_candidates(
    start_url: str, settings: BrowserSettings, block_outside: bool = False
) -> list[str]:
    """Contact-looking URLs from robots.txt sitemaps and /sitemap.xml (same site)."""
    if block_outside and not _local(start_url):
        return []
    root = f"{urlsplit(start_url).scheme}://{urlsplit(start_url).netloc}/"
    sitemaps: list[str] = []
    urls: list[str] = []
    try:
        async with _client(settings, block_outside) as client:
            try:
                robots = await client.get(urljoin(root, "/robots.txt"))
                if robots.status_code == 200:
                    for line in robots.text.splitlines():
                        if line.lower().startswith("sitemap:"):
                            sitemaps.append(line.split(":", 1)[1].strip())
            except httpx.HTTPError as exc:
                log.debug("robots.txt of %s: %s", root, exc)
            sitemaps.append(urljoin(root, "/sitemap.xml"))
            done: set[str] = set()
            while sitemaps and len(done) < MAX_SITEMAPS:
                sm = sitemaps.pop(0)
                if sm in done or (block_outside and not _local(sm)):
                    continue
                done.add(sm)
                try:
                    resp = await client.get(sm)
                except httpx.HTTPError as exc:
                    log.debug("sitemap %s: %s", sm, exc)
                    continue
                if resp.status_code != 200:
                    continue
                for loc in LOC_RE.findall(resp.text[:2_000_000]):
                    if loc.endswith(".xml") or ".xml?" in loc:
                        sitemaps.append(loc)
                    else:
                        urls.append(loc)
    except Exception as exc:  # a broken sitemap is a miss, never a crash
        log.debug("sitemap discovery for %s failed: %s", start_url, exc)
    site = site_of(start_url)
    same = [u for u in urls if site_of(u) == site]
    return roles.rank_sitemap_urls(same)[:MAX_SITEMAP_PAGES]


def common_paths(start_url: str) -> list[str]:
    parts = urlsplit(start_url)
    root = f"{parts.scheme}://{parts.netloc}"
    from probes.lexicon import COMMON_CONTACT_PATHS

    return [root + p for p in COMMON_CONTACT_PATHS[:MAX_COMMON_PATHS]]


async def existing(urls: list[str], settings: BrowserSettings, block_outside: bool) -> list[str]:
    """The URLs that answer 200 to a cheap GET (so the browser opens only those)."""
    out: list[str] = []
    try:
        async with _client(settings, block_outside) as client:
            for url in urls:
                if block_outside and not _local(url):
                    continue
                try:
                    resp = await client.get(url)
                except httpx.HTTPError:
                    continue
                if resp.status_code == 200 and str(resp.url) not in out:
                    out.append(str(resp.url))
    except Exception as exc:
        log.debug("common paths: %s", exc)
    return out
