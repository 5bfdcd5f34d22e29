// bpdiff HTML report: stepping through the passes, selection, and practice answers.
// Everything shown comes from the JSON block that bpdiff wrote (#bpdiff-data); the only
// arithmetic here is the answer check, --expect's grading rule (view.rule), which
// grading.js (inlined before this file) implements.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("bpdiff-data").textContent);
  var view = data.view, result = data.result;
  var steps = view.steps, count = steps.length;
  var step = 0, selected = null;
  var answers = {}, revealed = {};
  var byId = {}, backwardStep = {};
  result.nodes.forEach(function (node) { byId[node.id] = node; });
  (result.explain || []).forEach(function (s) {
    if (s.stage === "backward") { backwardStep[s.node] = s; }
  });

  function $(id) { return document.getElementById(id); }
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function derivative(ref) { return "∂" + view.out + "/∂" + ref; }
  function both(node) { return [$("n" + node), $("row" + node)].filter(Boolean); }

  // ---- the answer check ---------------------------------------------------------
  function number(json) {  // a JSON number of bpdiff's: "nan", "inf", "-inf" are strings
    if (typeof json !== "string") { return json; }
    return json === "nan" ? NaN : json === "inf" ? Infinity : -Infinity;
  }

  function flat(value) { return Array.isArray(value) ? value.flat(Infinity) : [value]; }

  // An answer's text against bpdiff's gradient (a number, or a nested list of them,
  // compared element by element): {numbers, right, wrong: the flat indices of the wrong
  // elements}, or null when it is not a number (or not as many as the gradient).
  function judge(text, grad) {
    var want = flat(grad).map(number);
    var pieces = want.length === 1 ? [text] :
      text.replace(/[\[\]()]/g, " ").split(/[\s,;]+/).filter(Boolean);
    if (pieces.length !== want.length) { return null; }
    var grades = pieces.map(function (piece, k) {
      return bpdiffGrading.grade(piece, want[k], view.rule);
    });
    if (grades.some(function (x) { return x === null; })) { return null; }
    var wrong = [];
    grades.forEach(function (x, k) { if (!x.right) { wrong.push(k); } });
    return { numbers: grades.map(function (x) { return x.number; }), text: text,
             right: wrong.length === 0, wrong: wrong };
  }

  // Element k (in row-major order) of an array of `shape`, as bpdiff names it: [1,2].
  function elementName(k, shape) {
    var index = [];
    for (var axis = shape.length - 1; axis >= 0; axis--) {
      index.unshift(k % shape[axis]);
      k = Math.floor(k / shape[axis]);
    }
    return "[" + index.join(",") + "]";
  }

  // The mark of a wrong or unreadable answer: for an array, which elements are wrong,
  // or how many numbers it takes.
  function wrongMark(node, a) {
    var shape = byId[node].shape || [];
    var size = flat(byId[node].grad).length;
    if (a.bad) {
      return size > 1 ? "expected " + size + " numbers (shape " + shape.join("×") +
        "), row by row" : "not a number";
    }
    if (size === 1) { return "✗"; }
    var names = a.wrong.slice(0, 3).map(function (k) { return elementName(k, shape); });
    return "✗ " + a.wrong.length + " of " + size + " elements wrong: " + names.join(", ") +
      (a.wrong.length > 3 ? ", …" : "");
  }

  // ---- stepping -------------------------------------------------------------------
  var panelTitle = $("panel-title"), panelText = $("panel-text");
  var overview = { title: panelTitle.textContent, text: panelText.textContent };
  var slider = $("slider"), label = $("step-label");

  function known(node) {  // whether the page may show the node's gradient
    return !view.practice || answers[node] && answers[node].right || revealed[node];
  }

  function scrollTo(el) {
    if (el && el.scrollIntoView) { el.scrollIntoView({ block: "nearest", inline: "nearest" }); }
  }

  function show(target) {
    step = Math.max(0, Math.min(count, target));
    all(".current, .active, .pending").forEach(function (el) {
      el.classList.remove("current", "active", "pending");
    });
    Object.keys(view.nodes).forEach(function (id) {
      var shown = view.nodes[id];
      both(id).forEach(function (el) {
        el.classList.toggle("nov", step > 0 && shown.valueStep > step);
        el.classList.toggle("nog", step > 0 && shown.gradStep > step);
        el.classList.toggle("pending", step > 0 && shown.valueStep > step);
      });
    });
    var current = step > 0 ? steps[step - 1] : null;
    if (current) {
      both(current.node).forEach(function (el) { el.classList.add("current"); });
      current.edges.forEach(function (id) {
        var el = $(id);
        if (el) { el.classList.add("active"); }
      });
      var stage = current.stage === "forward" ? "Forward pass" : "Backward pass";
      var what = current.stage === "forward" ? current.ref : derivative(current.ref);
      panelTitle.textContent = stage + ", step " + step + " of " + count + ": " + what;
      var hide = current.hidden && !known(current.node);
      panelText.textContent = (hide ? current.hidden : current.lines).join("\n");
      showTerms(hide ? [] : current.terms || [], current);
      label.textContent = ["step " + step + " of " + count, stage.toLowerCase(), what].join(" · ");
      scrollTo($("n" + current.node));
    } else {
      panelTitle.textContent = overview.title;
      panelText.textContent = overview.text;
      showTerms([]);
      label.textContent = "overview (step 0 of " + count + ")";
    }
    slider.value = String(step);
    slider.setAttribute("aria-valuetext", label.textContent);
    $("first").disabled = $("prev").disabled = step === 0;
    $("next").disabled = $("last").disabled = step === count;
  }

  // A backward step's paths as a table: via, upstream, local, contribution, and the sum.
  function showTerms(terms, current) {
    var table = $("terms"), body = table.tBodies[0];
    body.textContent = "";
    table.hidden = terms.length === 0;
    var rows = terms.map(function (t) { return [t[0], t[1], t[2], t[3]]; });
    if (terms.length) {
      rows.push([derivative(current.ref), "", "", view.nodes[current.node].grad]);
    }
    rows.forEach(function (cells, k) {
      var tr = body.insertRow();
      if (k === terms.length) { tr.className = "sum"; }
      cells.forEach(function (text) { tr.insertCell().textContent = text; });
    });
  }

  function select(node, from) {
    all(".selected").forEach(function (el) {
      el.classList.remove("selected");
      el.removeAttribute("aria-current");
    });
    selected = node;
    both(node).forEach(function (el) {
      el.classList.add("selected");
      el.setAttribute("aria-current", "true");
      if (el !== from) { scrollTo(el); }
    });
  }

  // ---- practice ------------------------------------------------------------------
  function setGradient(node, text) {
    var box = $("n" + node);
    var cell = box && box.querySelector(".gv");
    if (cell) { cell.textContent = text; }
  }

  function check(node) {
    var input = $("answer" + node);
    var text = input.value.trim();
    delete answers[node];
    if (text) {
      var verdict = judge(text, byId[node].grad);
      // at a kink, what another valid convention gives is right too (as with --expect)
      ((view.conventions || {})[node] || []).forEach(function (other) {
        var alternative = verdict && !verdict.right && judge(text, other);
        if (alternative && alternative.right) {
          verdict = alternative;
          verdict.convention = true;
        }
      });
      answers[node] = verdict || { bad: true, text: text };
    }
    var answer = answers[node];
    var right = answer && answer.right, wrong = answer && !answer.bad && !answer.right;
    both(node).forEach(function (el) {
      el.classList.toggle("right", Boolean(right));
      el.classList.toggle("wrong", Boolean(wrong));
      el.classList.toggle("bad", Boolean(answer && answer.bad));
    });
    input.setAttribute("aria-invalid", wrong || answer && answer.bad ? "true" : "false");
    setGradient(node, known(node) ? view.nodes[node].grad : "?");
    update();
  }

  // The student's chain: their answer for a node, or the seed 1 for the output.
  function theirs(node) {
    if (node === result.output) { return 1; }
    var a = answers[node];
    return a && !a.bad && a.numbers.length === 1 ? a.numbers[0] : null;
  }

  // A wrong answer that follows from the student's own answers above it (upstream
  // answers times the embedded local derivatives): the slip was made earlier.
  function carried(node) {
    var s = backwardStep[node], answer = answers[node];
    if (!s || !s.terms.length || !answer || answer.numbers.length !== 1) { return false; }
    var sum = 0;
    for (var k = 0; k < s.terms.length; k++) {
      var upstream = theirs(s.terms[k].via);
      if (upstream === null) { return false; }
      sum += upstream * number(s.terms[k].local);
    }
    return bpdiffGrading.grade(answer.text, sum, view.rule).right;
  }

  function update() {
    all(".diverges").forEach(function (el) { el.classList.remove("diverges"); });
    var right = 0, wrong = 0, first = null;
    view.answers.forEach(function (node) {
      var a = answers[node], mark = $("mark" + node);
      mark.textContent = !a ? (revealed[node] ? "answer: " + view.nodes[node].grad : "") :
        a.bad ? wrongMark(node, a) : a.convention ? "✓ by another valid convention at a kink" :
        a.right ? "✓" : wrongMark(node, a);
      if (!a || a.bad) { return; }
      if (a.right) { right += 1; return; }
      wrong += 1;
      if (first === null) { first = node; }
      else if (carried(node)) { mark.textContent = "✗ follows from your earlier answers"; }
    });
    var total = view.answers.length, parts = [right + " of " + total + " right"];
    if (wrong) { parts.push(wrong + " wrong"); }
    var status = parts.join(", ") + ".";
    if (first !== null) {
      both(first).forEach(function (el) { el.classList.add("diverges"); });
      var who = byId[first].name || "#" + first;
      var firstWrong = answers[first].wrong || [];
      var element = flat(byId[first].grad).length > 1 && firstWrong.length ?
        elementName(firstWrong[0], byId[first].shape || []) : "";
      $("mark" + first).textContent = "✗ your chain diverges here" +
        (element ? " (first at " + who + element + ")" : "");
      status += " Your chain first goes wrong at " + who + element + " (" + derivative(who) +
        ", node #" + first + ").";
    } else if (right === total) {
      status += " All done: every gradient is right.";
    }
    $("practice-status").textContent = status;
  }

  function setUpPractice() {
    $("practice-buttons").hidden = false;
    all("td.answer input").forEach(function (input) {
      var node = Number(input.getAttribute("data-node"));
      input.addEventListener("change", function () { check(node); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { check(node); }
      });
    });
    $("reveal").addEventListener("click", function () {
      var node = step > 0 && steps[step - 1].stage === "backward" ? steps[step - 1].node : selected;
      if (node === null || !$("answer" + node)) { return; }
      revealed[node] = true;
      setGradient(node, view.nodes[node].grad);
      update();
      show(step);
    });
    $("clear").addEventListener("click", function () {
      all("td.answer input").forEach(function (input) {
        input.value = "";
        check(Number(input.getAttribute("data-node")));
      });
    });
    update();
  }

  // ---- wiring ---------------------------------------------------------------------
  if (count > 0) {
    $("controls").hidden = false;
    slider.max = String(count);
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    $("first").addEventListener("click", function () { show(0); });
    $("prev").addEventListener("click", function () { show(step - 1); });
    $("next").addEventListener("click", function () { show(step + 1); });
    $("last").addEventListener("click", function () { show(count); });
    document.addEventListener("keydown", function (event) {
      var tag = event.target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.altKey ||
          event.ctrlKey || event.metaKey) { return; }
      var moves = { ArrowRight: step + 1, ArrowLeft: step - 1, Home: 0, End: count };
      if (moves.hasOwnProperty(event.key)) {
        event.preventDefault();
        show(moves[event.key]);
      }
    });
  }
  all("[data-node].node, tbody tr[data-node]").forEach(function (el) {
    var node = Number(el.getAttribute("data-node"));
    el.addEventListener("click", function (event) {
      if (event.target.tagName !== "INPUT") { select(node, el); }
    });
    el.addEventListener("keydown", function (event) {
      if ((event.key === "Enter" || event.key === " ") && event.target === el) {
        event.preventDefault();
        select(node, el);
      }
    });
  });
  var zoom = $("zoom"), graph = $("graph");
  if (zoom && graph) {
    zoom.parentNode.hidden = false;
    zoom.addEventListener("click", function () {
      var actual = graph.classList.toggle("fit") === false;
      zoom.textContent = actual ? "fit to width" : "actual size";
    });
  }
  if (view.practice) { setUpPractice(); }
  if (count > 0) { show(0); }
  // For tests and the curious: the same check the page applies to a typed answer.
  window.bpdiffReport = {
    show: show, select: select, judge: judge,
    step: function () { return step; }, count: count
  };
}());
