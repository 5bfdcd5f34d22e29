"""The HTML report in a real browser: Debian's Chromium, headless, driven by Selenium
through Debian's chromedriver (nothing here downloads a browser or a driver).

The oracle is bpdiff's own `--json --explain --locals` output for the same program:
every step's highlighted node and edges, and the numbers the page shows, must be the
JSON's. Practice answers are judged by the page's script and by bpdiff.analyses.expect.passes,
which must agree, on the shared table tests/data/grading_cases.json. Skipped, with the reason, when selenium, chromium or chromedriver is
missing (`apt-get install chromium chromium-driver`; selenium is in the test extra).

BPDIFF_UPDATE_SCREENSHOT=1 also rewrites docs/html_report.png, the README's picture.
"""

import json
import math
import os
import shutil
import struct
from pathlib import Path

import pytest

from bpdiff.analyses import expect as check
from conftest import run_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "advanced_u1_u4.bp"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and Path(p).is_file()),
                None)
CHROMEDRIVER = next((p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "")
                     if p and Path(p).is_file()), None)

webdriver = pytest.importorskip("selenium.webdriver",
                                reason="selenium is not installed (pip install '.[test]')")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium"
                " chromium-driver)", allow_module_level=True)

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def start_browser(profile, javascript=True):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    # A driver path given to Service: Selenium Manager is never run (it could download).
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The report, the practice page and --json for the seed example."""
    folder = tmp_path_factory.mktemp("pages")
    code, out, err = run_main("-f", str(EXAMPLE), "--html", str(folder / "report.html"),
                              "--html-practice", str(folder / "practice.html"))
    assert code == 0, err
    code, out, err = run_main("-f", str(EXAMPLE), "--json", "--explain", "--locals")
    assert code == 0, err
    return {"report": (folder / "report.html").as_uri(),
            "practice": (folder / "practice.html").as_uri(), "json": json.loads(out),
            "folder": folder}


def number(value):
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(value, value)


def same(text, value):
    """The page's `text` shows the JSON number `value` (to the 6 digits printed)."""
    shown, value = float(text), float(number(value))
    return shown == value or abs(shown - value) <= 5e-6 * max(abs(shown), abs(value))


def visible_text(driver, css):
    """The text of the element matched by `css`, or None when it is hidden."""
    return driver.execute_script(
        "var el = document.querySelector(arguments[0]);"
        "if (!el) return undefined;"
        "return getComputedStyle(el).visibility === 'hidden' ? null : el.textContent;", css)


def classes(driver, css):
    """The nodes (data-node) of the elements `css` matches; their ids for edges."""
    return set(driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " e => e.classList.contains('edge') ? e.id : e.getAttribute('data-node'));", css))


def no_errors(driver):
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


def test_stepping_through_every_step_shows_the_json_numbers(browser, pages):
    data = pages["json"]
    nodes = {node["id"]: node for node in data["nodes"]}
    locals_ = data["locals"]
    browser.get(pages["report"])
    body = browser.find_element(By.TAG_NAME, "body")
    steps = data["explain"]
    assert browser.find_element(By.ID, "slider").get_attribute("max") == str(len(steps))
    assert classes(browser, ".node.current") == set()  # the overview: nothing highlighted
    for number_, step in enumerate(steps, 1):
        body.send_keys(Keys.ARROW_RIGHT)
        node = step["node"]
        assert classes(browser, ".node.current") == {str(node)}, f"step {number_}"
        assert classes(browser, "tr.current") == {str(node)}
        assert browser.find_element(By.ID, "slider").get_attribute("value") == str(number_)
        panel = browser.find_element(By.ID, "panel-text").text
        if step["stage"] == "forward":
            expected_edges = {f"e{node}_{p}" for p in range(len(nodes[node]["inputs"]))}
            assert same(visible_text(browser, f"#n{node} .vv"), nodes[node]["value"])
            assert same(visible_text(browser, f"#row{node} td.vv"), step["value"])
            assert same(panel.rsplit(" = ", 1)[1].split()[0], step["value"])
            later = [s["node"] for s in steps[number_:] if s["stage"] == "forward"]
            for other in later:  # not computed yet: not shown
                assert visible_text(browser, f"#n{other} .vv") is None
        else:
            expected_edges = {f"e{e['node']}_{e['position']}" for e in locals_
                              if e["source"] == node}
            assert same(visible_text(browser, f"#n{node} .gv"), nodes[node]["grad"])
            assert same(visible_text(browser, f"#row{node} td.gv"), step["grad"])
            assert same(panel.rsplit(" = ", 1)[1].split()[0], step["grad"])
            rows = browser.execute_script(
                "return Array.from(document.querySelectorAll('#terms tbody tr'),"
                " r => Array.from(r.cells, c => c.textContent))")
            assert len(rows) == (len(step["terms"]) + 1 if step["terms"] else 0)
            for row, term in zip(rows, step["terms"]):  # upstream × local = contribution
                assert f"∂{term['via_ref']}/∂{step['ref']}" in panel
                assert row[0] == term["via_ref"]
                for text, key in zip(row[1:], ("upstream", "local", "contribution")):
                    assert same(text, term[key])
            if rows:  # the sum over paths
                assert same(rows[-1][3], step["grad"])
            later = [s["node"] for s in steps[number_:] if s["stage"] == "backward"]
            for other in later:
                assert visible_text(browser, f"#n{other} .gv") is None
        assert classes(browser, ".edge.active") == expected_edges, f"step {number_}"
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last step
    assert browser.execute_script("return bpdiffReport.step()") == len(steps)
    assert browser.find_element(By.ID, "next").get_attribute("disabled") == "true"
    no_errors(browser)


def test_buttons_slider_and_keys_jump(browser, pages):
    count = len(pages["json"]["explain"])
    browser.get(pages["report"])
    step = lambda: browser.execute_script("return bpdiffReport.step()")  # noqa: E731
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    assert step() == 2
    browser.find_element(By.ID, "prev").click()
    assert step() == 1
    browser.find_element(By.ID, "last").click()
    assert step() == count
    browser.find_element(By.ID, "first").click()
    assert step() == 0
    slider = browser.find_element(By.ID, "slider")
    slider.send_keys(Keys.END)
    assert step() == count
    slider.send_keys(Keys.HOME)
    slider.send_keys(Keys.ARROW_RIGHT)
    slider.send_keys(Keys.ARROW_RIGHT)
    slider.send_keys(Keys.ARROW_RIGHT)
    assert step() == 3
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    assert step() == count
    body.send_keys(Keys.HOME)
    assert step() == 0
    assert "overview" in browser.find_element(By.ID, "step-label").text


def test_selection_is_shared_by_graph_and_table(browser, pages):
    browser.get(pages["report"])
    browser.find_element(By.ID, "row6").click()
    assert classes(browser, ".selected") == {"6"}
    assert browser.find_element(By.ID, "n6").get_attribute("aria-current") == "true"
    browser.find_element(By.CSS_SELECTOR, "#n8 rect").click()
    assert classes(browser, ".selected") == {"8"}
    assert browser.find_element(By.ID, "row8").get_attribute("aria-current") == "true"
    # keyboard: Tab reaches the nodes; Enter selects the focused one
    browser.execute_script("document.getElementById('n5').focus()")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert classes(browser, ".selected") == {"5"}
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("data-node") is not None


JUDGED = [("297", 297.0), ("296", 297.0), ("297.0", 297.0), ("2.97e2", 297.0),
          ("0.197", 0.19661193324148185), ("0.1966", 0.19661193324148185),
          ("0.196", 0.19661193324148185), ("0.20", 0.19661193324148185),
          ("1/3", 1 / 3), ("0.333", 1 / 3), ("0.33", 1 / 3), ("-60", -60.0), ("-6e1", -60.0),
          ("1000", 1004.0), ("1000.", 1004.0), ("0", 0.0), ("1e-10", 0.0), ("1e-8", 0.0),
          ("-1/4", -0.25), ("inf", math.inf), ("nan", math.nan), ("3", math.nan)]


def test_the_page_judges_answers_as_expect_does(browser, pages):
    browser.get(pages["practice"])
    for text, got in JUDGED:
        python = check.passes(check.expectation_of("x", text), got)
        page = browser.execute_script(
            "var j = bpdiffReport.judge(arguments[0], arguments[1]); return j && j.right;",
            text, {math.inf: "inf"}.get(got, "nan" if got != got else got))
        assert page == python, text
    assert browser.execute_script("return bpdiffReport.judge('x', 3)") is None
    # a tensor gradient (nested lists, as tensor mode may give): its numbers in order
    assert browser.execute_script("return bpdiffReport.judge('[1, 2.5], [3]',"
                                  " [[1, 2.5], [3]]).right") is True
    assert browser.execute_script("return bpdiffReport.judge('1 2.5 4',"
                                  " [[1, 2.5], [3]]).right") is False


def test_the_page_grades_the_shared_cases(browser, pages):
    """The page's inlined grading.js on every case of tests/data/grading_cases.json."""
    from test_grading import CASES, with_sig

    browser.get(pages["practice"])
    verdicts = browser.execute_script(
        "return arguments[0].map(function (c) {"
        " var t = {nan: NaN, inf: Infinity, '-inf': -Infinity}[c.truth];"
        " var g = bpdiffGrading.grade(c.answer, t === undefined ? c.truth : t, c.rule);"
        " return g === null ? null : g.right; });",
        [{**c, "rule": with_sig(c["rule"])} for c in CASES])
    wrong = [(c["answer"], c["why"], v) for c, v in zip(CASES, verdicts) if v is not c["pass"]]
    assert wrong == []


def answer(driver, node, text):
    box = driver.find_element(By.ID, f"answer{node}")
    box.clear()
    box.send_keys(text, Keys.ENTER)


def test_practice_accepts_right_answers_and_marks_where_the_chain_diverges(browser, pages):
    data = pages["json"]
    grads = {node["id"]: node["grad"] for node in data["nodes"]}
    order = [s["node"] for s in data["explain"]
             if s["stage"] == "backward" and s["node"] != data["output"]]
    browser.get(pages["practice"])
    for node in order:  # gradients hidden until answered
        assert visible_text(browser, f"#n{node} .gv") == "?"
    assert visible_text(browser, f"#n{data['output']} .gv") == "1"
    for node in order:
        answer(browser, node, f"{grads[node]:.4g}")
        assert browser.find_element(By.ID, f"mark{node}").text == "✓"
        assert same(visible_text(browser, f"#n{node} .gv"), grads[node])
    status = browser.find_element(By.ID, "practice-status").text
    assert status.startswith(f"{len(order)} of {len(order)} right")
    assert classes(browser, ".diverges") == set()
    # u_2 forgets the path via u_4 (-20 instead of -60); x_3 and x_4 follow from it
    nodes = {node["name"]: node["id"] for node in data["nodes"] if node["name"]}
    u2, x3, x4, x1 = nodes["u_2"], nodes["x_3"], nodes["x_4"], nodes["x_1"]
    answer(browser, u2, "-20")
    answer(browser, x4, "-40")
    answer(browser, x3, "20")
    answer(browser, x1, "8")  # a sign slip of its own
    assert classes(browser, ".node.diverges") == {str(u2)}
    assert classes(browser, "tr.diverges") == {str(u2)}
    assert "diverges here" in browser.find_element(By.ID, f"mark{u2}").text
    assert "follows from your earlier answers" in browser.find_element(By.ID, f"mark{x4}").text
    assert "follows from your earlier answers" in browser.find_element(By.ID, f"mark{x3}").text
    assert browser.find_element(By.ID, f"mark{x1}").text == "✗"
    assert visible_text(browser, f"#n{u2} .gv") == "?"
    status = browser.find_element(By.ID, "practice-status").text
    assert f"{len(order) - 4} of {len(order)} right, 4 wrong" in status
    assert "first goes wrong at u_2" in status
    answer(browser, u2, "-60")  # fixed: the divergence moves to x_4
    assert classes(browser, ".node.diverges") == {str(x4)}
    answer(browser, u2, "abc")
    assert browser.find_element(By.ID, f"mark{u2}").text == "not a number"
    no_errors(browser)


def test_practice_accepts_other_conventions_at_a_kink_as_expect_does(browser, tmp_path):
    page = tmp_path / "kink.html"
    code, _, err = run_main("relu(x)*y", "--x", "0", "--y", "2", "--html-practice", str(page))
    assert code == 0, err
    browser.get(page.as_uri())
    x = 0  # relu'(0) = 0 gives ∂/∂x = 0; the other convention, relu'(0) = 1, gives 2
    other = "✓ by another valid convention at a kink"
    for text, mark in (("0", "✓"), ("2", other), ("1", "✗ your chain diverges here")):
        answer(browser, x, text)
        assert browser.find_element(By.ID, f"mark{x}").text == mark
        code, _, _ = run_main("relu(x)*y", "--x", "0", "--y", "2", "--expect", f"x={text}")
        assert code == (1 if mark.startswith("✗") else 0)  # --expect agrees


def test_practice_step_hides_the_sum_until_answered(browser, pages):
    data = pages["json"]
    browser.get(pages["practice"])
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    last = data["explain"][-1]
    panel = browser.find_element(By.ID, "panel-text").text
    assert panel.endswith("= ?")
    answer(browser, last["node"], str(last["grad"]))
    body.send_keys(Keys.HOME)
    body.send_keys(Keys.END)
    assert same(browser.find_element(By.ID, "panel-text").text.rsplit(" = ", 1)[1], last["grad"])
    browser.find_element(By.ID, "prev").click()
    browser.find_element(By.ID, "reveal").click()
    before_last = data["explain"][-2]
    assert same(visible_text(browser, f"#n{before_last['node']} .gv"), before_last["grad"])
    assert "answer:" in browser.find_element(By.ID, f"mark{before_last['node']}").text


def test_no_network_requests_and_a_screenshot(browser, pages, tmp_path):
    browser.get(pages["report"])
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(*[Keys.ARROW_RIGHT] * 13)  # ∂y/∂u_2, the sum over two paths
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # the PNG's IHDR
    assert (width, height) == tuple(browser.execute_script(
        "return [window.innerWidth * devicePixelRatio, window.innerHeight * devicePixelRatio]"))
    if os.environ.get("BPDIFF_UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "html_report.png")


def test_built_in_layout_page_works_too(browser, pages, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if Graphviz were absent
    page = pages["folder"] / "builtin.html"
    code, _, err = run_main("-f", str(EXAMPLE), "--html", str(page))
    assert code == 0, err
    monkeypatch.undo()
    assert "layout: built-in" in page.read_text(encoding="utf-8")
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    for step in pages["json"]["explain"]:
        body.send_keys(Keys.ARROW_RIGHT)
        assert classes(browser, ".node.current") == {str(step["node"])}
    no_errors(browser)


def test_without_javascript_the_graph_table_and_narration_show(pages, tmp_path):
    driver = start_browser(tmp_path / "profile", javascript=False)
    try:
        driver.get(pages["report"])
        assert not driver.find_element(By.ID, "controls").is_displayed()
        assert driver.find_element(By.ID, "graph").is_displayed()
        nodes = pages["json"]["nodes"]
        assert len(driver.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")) == len(nodes)
        for node in nodes:
            assert same(visible_text(driver, f"#row{node['id']} td.vv"), node["value"])
        assert "Backward pass" in driver.find_element(By.ID, "panel-text").text
    finally:
        driver.quit()


def test_practice_on_arrays_checks_element_by_element(browser, tmp_path):
    page = tmp_path / "arrays.html"
    args = ("h = W @ x; L = sum(h * h)", "--W", "[[1, 2, 0], [0, -1, 3]]",
            "--x", "[1, 2, -1]")
    code, _, err = run_main(*args, "--html-practice", str(page))
    assert code == 0, err
    code, out, err = run_main(*args, "--json")
    nodes = {node["name"]: node for node in json.loads(out)["nodes"] if node["name"]}

    def typed(grad, change=None):
        numbers = [x for row in grad for x in row] if isinstance(grad[0], list) else grad
        numbers = list(numbers)
        if change is not None:
            numbers[change] += 1
        return ", ".join(f"{x:.10g}" for x in numbers)

    browser.get(page.as_uri())
    w, h = nodes["W"]["id"], nodes["h"]["id"]
    assert "each element is checked on its own" in browser.find_element(By.ID, "practice").text
    answer(browser, h, typed(nodes["h"]["grad"]))
    assert browser.find_element(By.ID, f"mark{h}").text == "✓"
    answer(browser, w, typed(nodes["W"]["grad"]))
    assert browser.find_element(By.ID, f"mark{w}").text == "✓"
    answer(browser, w, typed(nodes["W"]["grad"], change=5))  # W[1,2]
    mark = browser.find_element(By.ID, f"mark{w}").text
    assert mark == "✗ your chain diverges here (first at W[1,2])"
    status = browser.find_element(By.ID, "practice-status").text
    assert "Your chain first goes wrong at W[1,2]" in status
    x = nodes["x"]["id"]
    answer(browser, x, "1, 2, 3")  # wrong, and before W in backward order
    assert browser.find_element(By.ID, f"mark{x}").text == \
        "✗ your chain diverges here (first at x[0])"
    assert browser.find_element(By.ID, f"mark{w}").text == "✗ 1 of 6 elements wrong: [1,2]"
    answer(browser, w, "1, 2, 3")
    assert browser.find_element(By.ID, f"mark{w}").text == \
        "expected 6 numbers (shape 2×3), row by row"
    no_errors(browser)


def test_practice_refuses_arrays_too_big_to_type(tmp_path):
    code, out, err = run_main("sum(x * x)", "--x", str(list(range(13))), "--html-practice",
                              str(tmp_path / "big.html"))
    assert code == 2 and out == ""
    assert "x has 13 elements (shape (13,)), more than 12 to type" in err
    assert "--html FILE.html" in err
