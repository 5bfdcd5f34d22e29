"""The notebook display (Result._repr_html_) in headless Chromium, inside a host page that
stands for a notebook, with styles of its own: the table shows, the folded report opens
and steps through every step as --json --explain says, no request leaves the page, and
the report's CSS and script do not reach the host. Skipped as test_html_browser is
(its machinery is reused) when selenium, Chromium or chromedriver is missing."""

import pytest

import bpdiff
from test_html_browser import (EXAMPLE, By, Keys, browser,  # noqa: F401 - a fixture
                               classes, no_errors)

HOST = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>a notebook</title>
<style>
body {{ background: rgb(250, 240, 230); font-family: serif; color: rgb(10, 20, 30); }}
table {{ border-collapse: separate; }}
p {{ margin: 7px; }}
.cell {{ color: rgb(1, 2, 3); }}
</style></head>
<body>
<p class="cell" id="before">In [1]:</p>
<div id="output">{display}</div>
<p class="cell" id="after">In [2]:</p>
</body></html>
"""
PROBE = """
const style = e => {const s = getComputedStyle(e);
  return [s.color, s.backgroundColor, s.fontFamily, s.margin, s.borderCollapse]};
return {sheets: document.styleSheets.length, scripts: document.scripts.length,
        before: style(document.getElementById('before')),
        after: style(document.getElementById('after')), body: style(document.body),
        table: style(document.querySelector('#output table')),
        globals: ['bpdiffReport'].filter(name => name in window),
        resources: performance.getEntriesByType('resource').length};
"""


@pytest.fixture(scope="module")
def notebook_page(tmp_path_factory):
    """A host page holding the display of the seed example, and the page without it."""
    folder = tmp_path_factory.mktemp("notebook")
    result = bpdiff.differentiate(EXAMPLE.read_text())
    shown = folder / "shown.html"
    shown.write_text(HOST.format(display=result._repr_html_()), encoding="utf-8")
    bare = folder / "bare.html"
    bare.write_text(HOST.format(display="<table><tr><td>x</td></tr></table>"),
                    encoding="utf-8")
    return {"shown": shown.as_uri(), "bare": bare.as_uri(),
            "steps": bpdiff.differentiate(EXAMPLE.read_text(), edges=True)}


def test_the_host_pages_styles_are_untouched(browser, notebook_page):
    browser.get(notebook_page["bare"])
    bare = browser.execute_script(PROBE)
    browser.get(notebook_page["shown"])
    browser.find_element(By.TAG_NAME, "summary").click()  # open the report
    shown = browser.execute_script(PROBE)
    assert shown == bare
    assert shown["sheets"] == 1 and shown["scripts"] == 0 and shown["globals"] == []
    assert shown["resources"] == 0
    no_errors(browser)


def test_the_report_opens_and_steps_through(browser, notebook_page):
    from bpdiff.render.explain import explain_steps

    steps = explain_steps(notebook_page["steps"])
    browser.get(notebook_page["shown"])
    table = browser.find_element(By.CSS_SELECTOR, "#output table")
    assert table.is_displayed() and "gradient" in table.text
    frame = browser.find_element(By.TAG_NAME, "iframe")
    assert not frame.is_displayed()  # folded until asked for
    browser.find_element(By.TAG_NAME, "summary").click()
    assert frame.is_displayed() and frame.size["height"] > 400
    browser.switch_to.frame(frame)
    try:
        assert browser.execute_script("return performance.getEntriesByType('resource')"
                                      ".length") == 0
        assert browser.execute_script("return window.origin") == "null"  # sandboxed
        assert classes(browser, ".node.current") == set()
        for number, step in enumerate(steps, 1):
            browser.find_element(By.ID, "next").click()
            assert classes(browser, ".node.current") == {str(step["node"])}, number
        assert browser.execute_script("return bpdiffReport.step()") == len(steps)
        slider = browser.find_element(By.ID, "slider")
        slider.send_keys(Keys.HOME)
        assert browser.execute_script("return bpdiffReport.step()") == 0
        no_errors(browser)
    finally:
        browser.switch_to.default_content()
