//! The handler checks over the module shapes people write.

use super::*;

fn py(src: &str, function: &str) -> Verdict {
    verdict(&scan(Language::Python, src), function)
}

fn js(src: &str, function: &str) -> Verdict {
    verdict(&scan(Language::Node, src), function)
}

fn missing(v: &Verdict) -> (Vec<String>, Vec<String>) {
    match v {
        Verdict::Missing { functions, others } => (functions.clone(), others.clone()),
        other => panic!("expected Missing, got {other:?}"),
    }
}

fn unsure(v: &Verdict) -> String {
    match v {
        Verdict::Unsure(why) => why.clone(),
        other => panic!("expected Unsure, got {other:?}"),
    }
}

// --- Python -------------------------------------------------------------

#[test]
fn python_plain_and_async_def() {
    let src = "import json\n\ndef handler(event, context):\n    return 1\n\nasync def process(event, context):\n    return 2\n";
    assert_eq!(py(src, "handler"), Verdict::Found);
    assert_eq!(py(src, "process"), Verdict::Found);
    let (functions, others) = missing(&py(src, "main"));
    assert_eq!(functions, ["handler", "process"]);
    assert_eq!(others, ["json"]);
}

#[test]
fn python_decorated_functions() {
    let src = "import functools\n\n@functools.lru_cache(maxsize=None)\n@other(\n    a=1,\n)\ndef handler(event, context):\n    pass\n";
    assert_eq!(py(src, "handler"), Verdict::Found);
}

#[test]
fn python_assignment_annotated_chained_and_tuple() {
    let src = "from x import make\nhandler = make()\nother: Callable = make()\na = b = make()\n(c, *d), e = make()\nonly: int\nobj.attr = 1\nitems[0] = 2\ncount += 1\nflag == 3\n";
    for name in ["handler", "other", "a", "b", "c", "d", "e"] {
        assert_eq!(py(src, name), Verdict::Found, "{name}");
    }
    // An annotation alone, attributes, subscripts and comparisons bind
    // nothing.
    for name in ["only", "obj", "attr", "items", "flag"] {
        assert!(matches!(py(src, name), Verdict::Missing { .. }), "{name}");
    }
}

#[test]
fn python_re_exports_through_imports() {
    let src = "from .impl import handler\nfrom pkg.mod import (\n    first,\n    second as process,\n)\nimport os.path\nimport numpy as np, sys\n";
    for name in ["handler", "first", "process", "os", "np", "sys"] {
        assert_eq!(py(src, name), Verdict::Found, "{name}");
    }
    assert!(matches!(py(src, "second"), Verdict::Missing { .. }));
    assert!(matches!(py(src, "path"), Verdict::Missing { .. }));
}

#[test]
fn python_a_class_with_call_and_its_instance() {
    let src = "class Handler:\n    def __call__(self, event, context):\n        return event\n\nhandler = Handler()\n";
    assert_eq!(py(src, "handler"), Verdict::Found);
    assert_eq!(py(src, "Handler"), Verdict::Found);
    // A method is not a module name.
    let (functions, others) = missing(&py(src, "__call__x"));
    assert!(functions.is_empty(), "{functions:?}");
    assert_eq!(others, ["Handler", "handler"]);
}

#[test]
fn python_a_star_import_or_module_getattr_leaves_it_unsure() {
    let v = py("from helpers import *\n", "handler");
    assert!(unsure(&v).contains("import *"), "{v:?}");
    let v = py(
        "def __getattr__(name):\n    return lambda e, c: e\n",
        "handler",
    );
    assert!(unsure(&v).contains("__getattr__"), "{v:?}");
    // But a name it does define is found.
    assert_eq!(
        py(
            "from helpers import *\ndef handler(e, c): pass\n",
            "handler"
        ),
        Verdict::Found
    );
}

#[test]
fn python_a_syntax_error_leaves_it_unsure_with_the_line() {
    let v = py(
        "def handler(event, context):\n    return \"\"\"never closed\n",
        "handler",
    );
    assert!(unsure(&v).contains("line 2"), "{v:?}");
    let v = py("x = (1,\n\ndef handler(e, c): pass\n", "handler");
    assert!(unsure(&v).contains("never closed"), "{v:?}");
    let v = py("def handler\n    pass\n", "handler");
    assert!(unsure(&v).contains("line 1"), "{v:?}");
    let v = py("x = [1, 2)\n", "handler");
    assert!(unsure(&v).contains("unmatched"), "{v:?}");
}

#[test]
fn python_a_nested_function_does_not_count() {
    let src = "def outer():\n    def handler(event, context):\n        pass\n    return handler\n\nclass C:\n    process = 1\n";
    let (functions, others) = missing(&py(src, "handler"));
    assert_eq!(functions, ["outer"]);
    assert_eq!(others, ["C"]);
    assert!(matches!(py(src, "process"), Verdict::Missing { .. }));
}

#[test]
fn python_conditional_definitions_count() {
    let src = "import os\nif os.environ.get(\"FAST\"):\n    def handler(e, c):\n        return 1\nelse:\n    def handler(e, c):\n        return 2\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\nwith open(__file__) as f:\n    size = len(f.read())\nif True: process = handler\n";
    for name in ["handler", "json", "size", "process"] {
        assert_eq!(py(src, name), Verdict::Found, "{name}");
    }
}

#[test]
fn python_names_under_the_main_guard_do_not_count() {
    let src = "def run():\n    pass\n\nif __name__ == \"__main__\":\n    def handler(e, c):\n        pass\n    main = run\nelse:\n    other = run\n";
    let (functions, _) = missing(&py(src, "handler"));
    assert_eq!(functions, ["run"]);
    assert!(matches!(py(src, "main"), Verdict::Missing { .. }));
    assert_eq!(py(src, "other"), Verdict::Found);
    let single = "if '__main__' == __name__:\n    handler = 1\n";
    assert!(matches!(py(single, "handler"), Verdict::Missing { .. }));
}

#[test]
fn python_strings_and_comments_that_look_like_code_bind_nothing() {
    let src = "\"\"\"Module docs.\n\ndef handler(event, context):\n    an example\n\"\"\"\n# def process(e, c): pass\nTEMPLATE = '''\nhandler = 1\n'''\nx = \"def main(): pass\"  # handler = 2\ns = r'\\\\d' ; y = 'it''s'\ndef real(e, c):\n    return \"\"\"\ndef fake(): pass\n\"\"\"\n";
    let (functions, others) = missing(&py(src, "handler"));
    assert_eq!(functions, ["real"]);
    assert_eq!(others, ["TEMPLATE", "x", "s", "y"]);
    assert!(matches!(py(src, "process"), Verdict::Missing { .. }));
    assert!(matches!(py(src, "fake"), Verdict::Missing { .. }));
}

#[test]
fn python_line_continuations_tabs_and_semicolons() {
    let src = "a = 1; handler = \\\n    make()\nif x:\n\tdef process(e, c):\n\t\tpass\nclass K(Base,\n        Mixin): pass\nlambda_handler = lambda e, c: e\n";
    for name in ["a", "handler", "process", "K", "lambda_handler"] {
        assert_eq!(py(src, name), Verdict::Found, "{name}");
    }
}

#[test]
fn python_soft_keywords_and_walrus_are_not_headers() {
    let src = "match = 1\ncase = 2\nif (handler := make()):\n    pass\ndata = {\"a\": 1}\nfn = lambda x: x\n";
    for name in ["match", "case", "data", "fn"] {
        assert_eq!(py(src, name), Verdict::Found, "{name}");
    }
}

#[test]
fn python_an_empty_module_defines_nothing() {
    let (functions, others) = missing(&py("", "handler"));
    assert!(functions.is_empty() && others.is_empty());
    let (functions, _) = missing(&py("# only a comment\n\n\n", "handler"));
    assert!(functions.is_empty());
}

#[test]
fn python_windows_line_ends_are_read() {
    let src = "import json\r\n\r\ndef handler(event, context):\r\n    return json.dumps(event)\r\n";
    assert_eq!(py(src, "handler"), Verdict::Found);
}

#[test]
fn the_likely_function_of_a_file_named_handler() {
    let s = scan(
        Language::Python,
        "def helper(): pass\ndef lambda_handler(e, c): pass\n",
    );
    assert_eq!(likely_function(&s).as_deref(), Some("lambda_handler"));
    let s = scan(Language::Python, "def process(e, c): pass\n");
    assert_eq!(likely_function(&s).as_deref(), Some("process"));
    let s = scan(Language::Python, "def a(): pass\ndef b(): pass\n");
    assert_eq!(likely_function(&s), None);
    let s = scan(Language::Node, "exports.handler = async () => 1;\n");
    assert_eq!(likely_function(&s).as_deref(), Some("handler"));
}

// --- Node.js ------------------------------------------------------------

#[test]
fn node_exports_assignments() {
    let src = "'use strict';\nconst x = require('x');\nexports.handler = async (event) => {\n  return x(event);\n};\nmodule.exports.process = function (e) { return e; };\nexports.count == 3;\nfoo.exports.other = 1;\n";
    assert_eq!(js(src, "handler"), Verdict::Found);
    assert_eq!(js(src, "process"), Verdict::Found);
    let (_, others) = missing(&js(src, "main"));
    assert_eq!(others, ["handler", "process"]);
}

#[test]
fn node_module_exports_object_literal() {
    let src = "async function handler(e) { return e; }\nfunction helper() {}\nmodule.exports = {\n  handler,\n  process: helper,\n  async run(e) { return { nested: e }; },\n  get value() { return 1; },\n};\n";
    for name in ["handler", "process", "run", "value"] {
        assert_eq!(js(src, name), Verdict::Found, "{name}");
    }
    // A key of a nested object is not an export.
    assert!(matches!(js(src, "nested"), Verdict::Missing { .. }));
    assert!(matches!(js(src, "helper"), Verdict::Missing { .. }));
}

#[test]
fn node_es_module_exports() {
    let src = "import { S3 } from '@aws-sdk/client-s3';\nexport async function handler(event) {\n  return 1;\n}\nexport function process() {}\nexport const upload = async () => {\n  const inner = 1;\n};\nexport let a = 1, b = 2\nexport class Worker {}\nconst hidden = 1, shown = 2;\nexport { hidden as visible, shown };\nexport default handler;\n";
    for name in [
        "handler", "process", "upload", "a", "b", "Worker", "visible", "shown", "default",
    ] {
        assert_eq!(js(src, name), Verdict::Found, "{name}");
    }
    for name in ["inner", "hidden", "S3"] {
        assert!(matches!(js(src, name), Verdict::Missing { .. }), "{name}");
    }
    let (functions, _) = missing(&js(src, "main"));
    assert_eq!(functions, ["handler", "process", "upload"]);
}

#[test]
fn node_exports_the_scanner_cannot_list_leave_it_unsure() {
    assert!(
        unsure(&js("module.exports = require('./impl');\n", "handler"))
            .contains("not an object literal")
    );
    assert!(
        unsure(&js("module.exports = { ...require('./a') };\n", "handler")).contains("spreads")
    );
    assert!(unsure(&js("export * from './impl.mjs';\n", "handler")).contains("export *"));
    assert!(unsure(&js("module.exports = { ['handler']: f };\n", "handler")).contains("computed"));
}

#[test]
fn node_strings_comments_templates_and_regexes_hide_nothing() {
    let src = "// exports.fake = 1\n/* module.exports.also = 2 */\nconst s = 'exports.str = 3';\nconst t = `exports.tpl = ${ {a: 1}.a } and ${'}'}`;\nconst r = /exports\\.re = [}'\"]/g;\nconst d = 4 / 2 / 1;\nexports.handler = () => s + t + r + d;\n";
    assert_eq!(js(src, "handler"), Verdict::Found);
    let (_, others) = missing(&js(src, "fake"));
    assert_eq!(others, ["handler"]);
}

#[test]
fn node_a_syntax_error_leaves_it_unsure() {
    assert!(unsure(&js("exports.handler = function () {\n", "handler")).contains("never closed"));
    assert!(unsure(&js("const s = 'open\nexports.handler = 1;\n", "handler")).contains("line 1"));
    assert!(unsure(&js("exports.handler = 1; }\n", "handler")).contains("unmatched"));
}
