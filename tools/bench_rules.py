"""The benchmark's rule set: 100+ Python and JavaScript rules every tool expresses alike.

Each rule is one semgrep `pattern` of the plain kind semgrep, ast-grep and codelens all read the
same way (calls, methods, attributes, assignments, comparisons with `$X` and `...`). Written
as semgrep YAML for codelens and semgrep, and translated for ast-grep (`...` -> `$$$`).
"""

from __future__ import annotations

import re
from pathlib import Path

PYTHON = [
    "eval($X)", "exec($X)", "pickle.loads($X)", "pickle.load($X)", "yaml.load($X)",
    "marshal.loads($X)", "os.system($X)", "os.popen($X)", "subprocess.call(...)",
    "subprocess.Popen(...)", "subprocess.run(...)", "subprocess.check_output(...)",
    "hashlib.md5(...)", "hashlib.sha1(...)", "random.random()", "random.choice($X)",
    "tempfile.mktemp(...)", "json.loads($X)", "re.compile($X)", "re.match(...)",
    "issubclass($X, $T)", "setattr($O, $N, $V)", "warnings.warn(...)",
    "logging.getLogger($X)", "mark_safe($X)", "format_html(...)", "connection.cursor()",
    "$C.execute($Q)", "$M.objects.raw(...)", "$M.objects.extra(...)", "$Q.select_related(...)",
    "$Q.prefetch_related(...)", "$Q.values_list(...)", "datetime.datetime.now()",
    "timezone.now()", "time.sleep($X)", "threading.Thread(...)", "os.environ.get(...)",
    "os.path.exists($X)", "sys.exit(...)", "$X.encode(...)", "$X.decode(...)",
    "$D.setdefault($K, $V)", "copy.deepcopy($X)", "functools.partial(...)",
    "inspect.signature($X)", "$X == None", "$X != None", "len($X) == 0", "type($X) == $T",
    "ngettext(...)", "render(...)", "JsonResponse(...)", "get_object_or_404(...)",
    "HttpResponseRedirect(...)", "cache.get($K)", "cache.set(...)", "transaction.atomic(...)",
    "open($F, $M)", "os.remove($X)", "shutil.rmtree(...)", "input(...)",
    "assert_called_once_with(...)", "zip(...)", "sorted(...)",
]
JAVASCRIPT = [
    "eval($X)", "new Function(...)", "setTimeout($F, $T)", "setInterval(...)",
    "clearTimeout($X)", "document.write(...)", "$EL.innerHTML = $V", "console.log(...)",
    "console.warn(...)", "console.error(...)", "JSON.parse($X)", "JSON.stringify(...)",
    "Object.assign(...)", "Object.keys($X)", "Object.create($X)", "Object.freeze($X)",
    "Object.getPrototypeOf($X)", "Array.isArray($X)", "Array.prototype.slice.call(...)",
    "$X.hasOwnProperty($Y)", "typeof $X === $T", "$X === undefined", "parseInt($X)",
    "parseFloat($X)", "Math.random()", "Math.floor($X)", "Math.max(...)", "new Date(...)",
    "$F.apply($T, $A)", "Symbol($X)", "Promise.resolve(...)", "new Promise($F)",
    "$P.then(...)", "$X.indexOf($Y)", "$X.concat(...)", "new Error($X)", "new TypeError(...)",
    "isNaN($X)", "$X.length === 0", "Object.prototype.toString.call($X)", "$X.pipe(...)",
    "new Observable(...)", "isFunction($X)", "baseGetTag($X)", "$X.toString()",
    "Object.defineProperty($O, $K, $D)", "$X != null", "new Map(...)", "new Set(...)",
    "$X.forEach(...)",
]


def rule_id(language: str, pattern: str) -> str:
    number = (PYTHON if language == "python" else JAVASCRIPT).index(pattern)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", pattern).strip("-").lower()
    return f"{language[:2]}{number:03}-{slug}"[:60]


def semgrep_yaml(language: str, patterns: list[str]) -> str:
    lines = ["rules:"]
    for pattern in patterns:
        lines += [f"  - id: {rule_id(language, pattern)}",
                  f"    languages: [{language}]",
                  f"    message: {_quote('matched ' + pattern)}",
                  "    severity: INFO",
                  f"    pattern: {_quote(pattern)}"]
    return "\n".join(lines) + "\n"


def astgrep_yaml(language: str, patterns: list[str]) -> str:
    docs = []
    for pattern in patterns:
        docs.append("\n".join([f"id: {rule_id(language, pattern)}", f"language: {language}",
                               "severity: info", f"message: {_quote('matched ' + pattern)}",
                               "rule:", f"  pattern: {_quote(pattern.replace('...', '$$$'))}"]))
    return "\n---\n".join(docs) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write(folder: Path) -> dict[str, Path]:
    """Write the semgrep rule files and an ast-grep project; returns their locations."""
    semgrep_dir = folder / "semgrep"
    astgrep_dir = folder / "astgrep"
    (astgrep_dir / "rules").mkdir(parents=True, exist_ok=True)
    semgrep_dir.mkdir(parents=True, exist_ok=True)
    for language, patterns in (("python", PYTHON), ("javascript", JAVASCRIPT)):
        (semgrep_dir / f"{language}.yaml").write_text(semgrep_yaml(language, patterns))
        (astgrep_dir / "rules" / f"{language}.yml").write_text(astgrep_yaml(language, patterns))
    (astgrep_dir / "sgconfig.yml").write_text("ruleDirs:\n  - rules\n")
    return {"semgrep": semgrep_dir, "astgrep": astgrep_dir / "sgconfig.yml"}


RULE_COUNT = len(PYTHON) + len(JAVASCRIPT)
