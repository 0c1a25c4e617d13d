const cp = require("child_process");

// ruleid: js-eval
eval(userInput);
// ok: js-eval
evaluate(userInput);

// ruleid: js-child-exec
cp.exec("ls " + dir);
// ok: js-child-exec
other.exec("ls");

// ruleid: js-inner-html
element.innerHTML = userHtml;
// ok: js-inner-html
element.innerHTML = "<b>static</b>";

// ruleid: js-same-compare
if (a === a) {}
// ruleid: js-same-compare
if (b == b) {}
// ok: js-same-compare
if (a === b) {}

// ruleid: js-console
console.log("here", value);
// ok: js-console
console.error("kept");

function debugOnly(x) {
  // ok: js-console
  console.debug(x);
}
