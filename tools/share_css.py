"""Move the stylesheets nbconvert inlines into every HTML page into one shared file.

nbconvert's lab template puts the same ~260 KB of CSS into each page; the rendered notebooks in
docs/notebooks/ would carry thirteen copies. This keeps one (``notebook.css``) and links it from
each page. A page whose styles differ from the shared ones keeps its own, untouched.

    python tools/share_css.py docs/notebooks
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
CSS_NAME = "notebook.css"


def _css(blocks: list[str]) -> str:
    return "\n".join(re.sub(r"^<style[^>]*>|</style>$", "", b) for b in blocks)


def share(folder: Path) -> int:
    """Rewrite the pages in ``folder`` to link one shared stylesheet; returns pages changed."""
    texts = {page: page.read_text() for page in sorted(folder.glob("*.html"))}
    first = next((found for text in texts.values() if (found := STYLE.findall(text))), [])
    if not first:
        return 0
    css = folder / CSS_NAME
    tmp = css.with_name(f".{CSS_NAME}.tmp")
    tmp.write_text(_css(first))
    tmp.replace(css)
    changed = 0
    link = f'<link rel="stylesheet" href="{CSS_NAME}">'
    for page, text in texts.items():
        if STYLE.findall(text) != first:
            continue  # its own styles: leave it as nbconvert wrote it
        parts = STYLE.split(text)
        out = parts[0] + link + "".join(parts[1:])
        tmp = page.with_name(f".{page.name}.tmp")
        tmp.write_text(out)
        tmp.replace(page)
        changed += 1
    return changed


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/notebooks")
    print(f"{share(folder)} page(s) now link {folder / CSS_NAME}")
