"""What the Playground browser tests share: opening the page, waiting for what it shows, and
reading its controls, its URL and its canvases."""
from urllib.parse import parse_qs, urlparse

from .waiting import wait_until

TIMEOUT = 30_000  # ms


def open_playground(page, query: str = ""):
    page.goto(f"/playground{query}")
    page.wait_for_selector("#connection.open", timeout=TIMEOUT)
    wait_until(page, "document.querySelector('#network').dataset.sizes", timeout=TIMEOUT)
    wait_for_snapshot(page)


def wait_for_snapshot(page):
    """Until the graph has drawn a snapshot of the network it shows."""
    wait_until(page, "document.querySelector('#network').dataset.step !== undefined", timeout=TIMEOUT)


def wait_for_sizes(page, sizes: str):
    wait_until(page, f"document.querySelector('#network').dataset.sizes === {sizes!r}", timeout=TIMEOUT)


def number(page, selector: str) -> float:
    return float(page.text_content(selector).replace(",", "").rstrip("%"))


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query, keep_blank_values=True).items()}


def wait_for_query(page, key: str, value: str):
    """Until the page's URL carries key=value (the page writes its URL a moment after a change)."""
    wait_until(page, f"new URLSearchParams(location.search).get({key!r}) === {value!r}", timeout=TIMEOUT)


def canvas_data(page, selector: str) -> str:
    return page.eval_on_selector(selector, "c => c.toDataURL()")


def control_values(page) -> dict:
    """Every bound control's shown value, keyed by field (features: the checked ones)."""
    return page.evaluate("""() => {
        const out = {};
        for (const el of document.querySelectorAll('[data-field]')) {
            if (el.type === 'radio') { if (el.checked) out[el.dataset.field] = el.value; }
            else out[el.dataset.field] = el.value;
        }
        out.features = [...document.querySelectorAll('[data-feature]')].filter(f => f.checked).map(f => f.dataset.feature);
        out.speed = document.querySelector('#speed').value;
        out.sizes = document.querySelector('#network').dataset.sizes;
        return out;
    }""")


def pick_preset(page, name: str):
    page.wait_for_selector(f"#preset option[value={name}]", state="attached", timeout=TIMEOUT)
    page.select_option("#preset", name)
