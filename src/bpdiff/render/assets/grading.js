// bpdiff's grading rule, as bpdiff.analyses.expect.passes states it (read its docstring):
// an answer passes when it is the true value correctly rounded at the precision written
// (half a unit in its last written digit, plus float noise) with at least rule.sig
// significant digits; fewer digits (0.2, 3), a zero and a fraction must be exact. With
// rule.rtol or rule.atol: |expected - got| <= atol + rtol * max(|expected|, |got|).
// The practice page inlines this file; tests run it (under node and in Chromium) and the
// Python rule against the same cases, tests/data/grading_cases.json.
var bpdiffGrading = (function () {
  "use strict";
  var FLOAT_NOISE = 1e-12, ZERO_NOISE = 1e-9, LIMIT_BITS = 10000;
  var DECIMAL = /^\s*[+-]?(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?\s*$/;  // engine.exact._DECIMAL
  var WRITTEN = /^\s*[+-]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,6}))?\s*$/;  // numbers

  function decimal(text) {  // bpdiff.engine.exact._decimal, as a float
    var m = DECIMAL.exec(text);
    if (!m || !(m[1] || m[2])) { return null; }
    var power = m[3] || "", exponent = power.length < 8 ? parseInt(power || "0", 10) : 1e8;
    if ((m[1].length + m[2].length + Math.abs(exponent)) * 3.33 > LIMIT_BITS) { return null; }
    return Number(text.trim());
  }

  function parse(text) {  // bpdiff.analyses.expect.parse_number, as a float
    text = text.replace(/\u2212/g, "-").trim();
    var special = { "nan": NaN, "inf": Infinity, "+inf": Infinity, "-inf": -Infinity };
    if (special.hasOwnProperty(text.toLowerCase())) { return special[text.toLowerCase()]; }
    var parts = text.split("/");
    if (parts.length === 2) {
      var top = decimal(parts[0]), bottom = decimal(parts[1]);
      return top === null || bottom === null || bottom === 0 ? null : top / bottom;
    }
    return parts.length === 1 ? decimal(text) : null;
  }

  function written(text) {  // bpdiff.numbers.written: {digits, last}, or null
    text = text.replace(/\u2212/g, "-").trim();
    if (text.indexOf("/") >= 0) { return { digits: null, last: null }; }
    var m = WRITTEN.exec(text);
    if (!m || !(m[1] || m[2])) { return null; }
    var fraction = m[2] || "";
    return { digits: (m[1] + fraction).replace(/^0+/, "").length,
             last: parseInt(m[3] || "0", 10) - fraction.length };
  }

  // Whether the answer `text` passes for the true value `truth` (a float) under `rule`
  // ({sig} or {rtol, atol}): {number, right}, or null when `text` is not a number.
  function grade(text, truth, rule) {
    var e = parse(text);
    if (e === null) { return null; }
    return { number: e, right: passes(e, written(text), truth, rule) };
  }

  function passes(e, precision, g, rule) {
    if (!isFinite(e) || !isFinite(g)) { return e === g || (isNaN(e) && isNaN(g)); }
    var scale = Math.max(Math.abs(e), Math.abs(g)), difference = Math.abs(e - g);
    if (rule.rtol != null || rule.atol != null) {
      var atol = rule.atol == null ? ZERO_NOISE : rule.atol;
      return difference <= atol + (rule.rtol || 0) * scale;
    }
    var allowed = FLOAT_NOISE * scale + (e === 0 ? ZERO_NOISE : 0);
    if (precision && precision.digits !== null && precision.digits >= rule.sig) {
      allowed += 0.5 * Math.pow(10, Math.max(-400, Math.min(400, precision.last)));
    }
    return difference <= allowed;
  }

  return { grade: grade, parse: parse, written: written };
}());
if (typeof module !== "undefined" && module.exports) { module.exports = bpdiffGrading; }
