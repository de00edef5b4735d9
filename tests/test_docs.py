"""The README and the docs: a landing page, generated tables, snippets that
run as written, and parameter docs that name everything a parameter takes."""

import pathlib
import re
import sys
from numbers import Integral

import pytest
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

import sklearn_mlk
from sklearn_mlk import KerasMultiLabelClassifier

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import tables  # noqa: E402

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "guide").glob("*.md"))]
# The Dask snippet starts a LocalCluster: its own test (-m dask) runs it.
OWN_TEST = {"dask.md"}


def _snippets():
    for page in PAGES:
        if page.name in OWN_TEST:
            continue
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
        for i, code in enumerate(blocks):
            yield pytest.param(code, id=f"{page.relative_to(ROOT)}[{i}]")


def test_the_readme_is_a_landing_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    # Its first command installs and runs the main job, its second the tests.
    commands = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1).splitlines()
    assert "python -m sklearn_mlk" in commands[0] and "python -m pytest" in commands[1]
    # CI runs exactly that test command, on the test extra it installs.
    tests = re.search(r"(python -m pytest[^#]*?)\s*(#|$)", commands[1]).group(1)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci, tests
    assert 'pip install --quiet -e ".[test]"' in ci
    # No volatile counts, and every page it points at exists.
    assert not re.search(r"\d+ passed", readme)
    for path in re.findall(r"`((?:docs|tests|benchmarks)/[\w./]+\.(?:md|py))`", readme):
        assert (ROOT / path).exists(), path


@pytest.mark.parametrize("block", list(tables.BLOCKS))
def test_every_generated_table_equals_its_rendering_from_the_saved_results(block):
    """`python benchmarks/tables.py` wrote it; a hand edit or a new result
    that was not rendered fails here."""
    assert tables.committed(block) == tables.render(block)


def test_every_page_with_measured_tables_marks_them_as_generated():
    """A table of figures outside a generated block would be typed by hand."""
    for page in PAGES:
        text = page.read_text()
        for name in re.findall(r"<!-- ([\w-]+):start -->", text):
            assert name in tables.BLOCKS, (page, name)
            text = text.split(f"<!-- {name}:start -->", 1)[0] + text.split(
                f"<!-- {name}:end -->", 1)[1]
        numbers = [row for row in text.splitlines()
                   if row.startswith("|") and re.search(r"\| \**\d+\.\d{2,}", row)]
        assert not numbers, (page.name, numbers[:3])


# What a measured figure looks like in prose: two or more decimals (not a
# version), a thousands separator, a ratio, a duration, a size in MB or GB, a
# percentage with decimals. Inline code (parameter values) is not prose.
MEASURED = re.compile(r"(?<![\w.])(?<!>= )(?<!Python )\d+\.\d{2,}(?!\w)|\b\d{1,3}(?:,\d{3})+\b"
                      r"|(?<![\w.])\d+(?:\.\d+)?x\b|(?<![\w.])\d+(?:\.\d+)? ?(?:ms|s|MB|GB)\b"
                      r"|\d+\.\d+ ?%")


def _constants():
    """Figures the pages may state: the library's own constants, each checked
    against the code so that the page cannot drift from it."""
    from sklearn_mlk import _tuning
    from sklearn_mlk._keras import _backend
    from sklearn_mlk._training import _fit, _loop

    return {"0.2%": _loop.SPARSE_BATCH_DENSITY == 0.002,
            "5,000": _fit.LARGE_DROPOUT_ROWS == 5_000,
            "0.25": _fit.LARGE_DROPOUT == 0.25,
            "50,000": _tuning.LARGE == 50_000,
            "500,000": _backend.SMALL_TORCH_NETWORK == 500_000}


def test_no_measured_figure_is_typed_into_the_prose():
    """Measured figures live in generated blocks; prose names the table."""
    constants = _constants()
    assert all(constants.values()), constants
    typed = []
    for page in PAGES:
        text = re.sub(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", "", page.read_text(),
                      flags=re.S)
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        text = re.sub(r"`[^`\n]*`", "", text)
        typed += [(page.name, hit) for hit in MEASURED.findall(text) if hit not in constants]
    assert not typed


@pytest.mark.network
@pytest.mark.filterwarnings("ignore:Few training samples:UserWarning")
@pytest.mark.parametrize("code", list(_snippets()))
def test_every_snippet_runs_as_a_script(code, tmp_path, monkeypatch):
    """Pasted into a file and run, as written (in this process: a fresh one
    would spend most of the test importing TensorFlow again)."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(tmp_path / "snippet.py"), "exec"), {"__name__": "__main__"})


def _accepted(constraint):
    """Words of which one must appear in a parameter's doc for ``constraint``."""
    if constraint is None:
        return [["None"]]
    if constraint is callable:
        return [["callable"]]
    if isinstance(constraint, StrOptions):
        return [[f'"{option}"'] for option in sorted(constraint.options)
                if option not in getattr(constraint, "deprecated", set())]
    if isinstance(constraint, Options):
        return [[repr(option)] for option in sorted(constraint.options)]
    if isinstance(constraint, Interval):
        return [["int"]] if constraint.type is Integral else [["float"]]
    if isinstance(constraint, HasMethods):
        return [["instance", "object"]]
    named = {"boolean": ["bool"], "array-like": ["array-like", "tuple", "list"],
             "random_state": ["int", "RandomState"], "verbose": ["int"],
             str: ["str"], dict: ["dict"], list: ["list"], tuple: ["tuple"],
             type: ["class"]}
    return [named[constraint]]


# Classes a parameter takes that its constraints name only as "callable".
CLASSES = {"threshold": [sklearn_mlk.FBeta, sklearn_mlk.PrecisionAtLeast,
                         sklearn_mlk.RecallAtLeast]}


def test_every_parameter_doc_names_every_type_and_class_it_takes():
    from numpydoc.docscrape import ClassDoc

    docs = {p.name: p.type + " " + " ".join(p.desc)
            for p in ClassDoc(KerasMultiLabelClassifier)["Parameters"]
            if not p.name.startswith("**")}
    assert set(docs) == set(KerasMultiLabelClassifier._parameter_constraints)
    missing = []
    for name, constraints in KerasMultiLabelClassifier._parameter_constraints.items():
        wanted = [words for c in constraints for words in _accepted(c)]
        wanted += [[cls.__name__] for cls in CLASSES.get(name, [])]
        missing += [(name, words) for words in wanted
                    if not any(word in docs[name] for word in words)]
    assert not missing


def test_the_docs_build_runs_the_gallery_in_fast_mode_and_keeps_keras_quiet(monkeypatch):
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert "sklearn_mlk.import_keras()" in conf and '"abort_on_example_error": True' in conf
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    import gallery_argv

    monkeypatch.setenv("SKLEARN_MLK_DOCS_FAST", "1")
    assert gallery_argv.reset_argv({}, {}) == ["--fast"]
    monkeypatch.delenv("SKLEARN_MLK_DOCS_FAST")
    assert gallery_argv.reset_argv({}, {}) == []


def test_the_auto_settings_table_states_the_constants_the_code_uses():
    """The thresholds page's table of what "auto" resolves to quotes the
    constants behind it; changing one without the page fails here."""
    from sklearn_mlk import _tuning
    from sklearn_mlk._training import _fit, _trainer

    page = (ROOT / "docs" / "guide" / "thresholds.md").read_text()
    table = page[page.index('**What the `"auto"` settings choose.**'):
                 page.index("**How the defaults were chosen.**")]
    for text in (f"{_tuning.AUTO_FOLDS} fold networks",
                 f"{_tuning.LARGE_FOLDS} from {_tuning.LARGE:,} rows",
                 f"below {_tuning.MIN_TUNE_ROWS} rows",
                 f"fewer than {_tuning.MIN_STOP_ROWS} per network",
                 f"{_trainer.AUTO_EPOCHS} for networks that stop early",
                 f"at least {_trainer.AUTO_STEPS} optimizer steps",
                 f"{_fit.AUTO_LEARNING_RATE:.0e}".replace("e-0", "e-")
                 + " for the default MLP",
                 f"{_fit.DEFAULT_LEARNING_RATE:.0e}".replace("e-0", "e-")
                 + " for one named",
                 f"| `alpha` | {_fit.AUTO_ALPHA:g} for a 1-D",
                 f"| `dropout` | {_fit.AUTO_DROPOUT:g} below {_fit.LARGE_DROPOUT_ROWS:,} "
                 f"rows, {_fit.LARGE_DROPOUT:g} from {_fit.LARGE_DROPOUT_ROWS:,}"):
        assert text in table, text
