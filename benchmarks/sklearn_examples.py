"""scikit-learn's gallery examples with this estimator swapped in.

    python benchmarks/sklearn_examples.py               # all three, 10 chains
    python benchmarks/sklearn_examples.py --chains 2    # fewer chains of ours

Three examples of scikit-learn 1.9's gallery, set up as they set up their
data, split and score, each run with its original estimator and with
``KerasMultiLabelClassifier`` at its defaults in the same place, nothing else
changed:

- ``plot_roc``: iris with 800 noisy features, a stratified half split,
  ``LogisticRegression().fit(...).predict_proba`` scored by micro-averaged
  one-vs-rest ROC AUC;
- ``plot_precision_recall`` (its multi-label part): iris with 800 noisy
  features as a label indicator, a half split,
  ``OneVsRestClassifier(make_pipeline(StandardScaler(), LinearSVC()))`` and
  its ``decision_function`` scored by micro-averaged average precision (our
  ``predict_proba`` beside it, which ranking metrics should be given);
- ``plot_classifier_chain_yeast``: yeast (the example fetches it from
  OpenML; here the shared bundle, all 2417 rows, with the example's 80/20
  split), ``OneVsRestClassifier(LogisticRegression())`` and an ensemble of
  ``ClassifierChain(LogisticRegression(), order="random")``, scored by
  samples-averaged Jaccard; this estimator replaces the OvR, and also the
  chains' base estimator (``--chains`` of them).

Writes ``results/sklearn_examples.{json,md}``.
"""

import argparse
import time
import warnings

import numpy as np

import report


def noisy_iris(seed=0):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    rng = np.random.RandomState(seed)
    return np.concatenate([X, rng.randn(X.shape[0], 200 * X.shape[1])], axis=1), y


def ours():
    from sklearn_mlk import KerasMultiLabelClassifier

    return KerasMultiLabelClassifier(random_state=0)


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def plot_roc(make):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer

    X, y = noisy_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y,
                                                        random_state=0)
    y_score = make().fit(X_train, y_train).predict_proba(X_test)
    onehot = LabelBinarizer().fit(y_train).transform(y_test)
    return {"micro ROC AUC": roc_auc_score(onehot, y_score, multi_class="ovr",
                                           average="micro")}


def plot_precision_recall(make):
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import label_binarize

    X, y = noisy_iris()
    Y = label_binarize(y, classes=[0, 1, 2])
    X_train, X_test, Y_train, Y_test = train_test_split(
        X, Y, test_size=0.5, random_state=np.random.RandomState(0))
    classifier = make().fit(X_train, Y_train)
    scores = {"micro AP (decision_function)": average_precision_score(
        Y_test, classifier.decision_function(X_test), average="micro")}
    if hasattr(classifier, "predict_proba"):
        scores["micro AP (predict_proba)"] = average_precision_score(
            Y_test, classifier.predict_proba(X_test), average="micro")
    return scores


def plot_classifier_chain_yeast(make_ovr, make_base, chains):
    from sklearn.metrics import jaccard_score
    from sklearn.model_selection import train_test_split
    from sklearn.multioutput import ClassifierChain

    import datasets

    X, Y, _ = datasets.load("yeast")
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2,
                                                        random_state=0)
    ovr = make_ovr().fit(X_train, Y_train)
    scores = {"OvR-position Jaccard": jaccard_score(Y_test, ovr.predict(X_test),
                                                    average="samples")}
    if chains:
        members = [ClassifierChain(make_base(), order="random", random_state=i)
                   .fit(X_train, Y_train) for i in range(chains)]
        proba = np.mean([chain.predict_proba(X_test) for chain in members], axis=0)
        scores[f"{chains}-chain ensemble Jaccard"] = jaccard_score(
            Y_test, proba >= 0.5, average="samples")
    return scores


def run(chains, ours_chains):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    def svc():
        return OneVsRestClassifier(make_pipeline(
            StandardScaler(), LinearSVC(random_state=np.random.RandomState(0))))

    cases = [
        ("plot_roc", "LogisticRegression()",
         lambda: plot_roc(LogisticRegression), lambda: plot_roc(ours)),
        ("plot_precision_recall", "OneVsRestClassifier(StandardScaler + LinearSVC)",
         lambda: plot_precision_recall(svc), lambda: plot_precision_recall(ours)),
        ("plot_classifier_chain_yeast", "LogisticRegression() in OvR and chains",
         lambda: plot_classifier_chain_yeast(
             lambda: OneVsRestClassifier(LogisticRegression()), LogisticRegression,
             chains),
         lambda: plot_classifier_chain_yeast(ours, ours, ours_chains)),
    ]
    results = []
    for name, original, run_original, run_ours in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs, their_seconds = timed(run_original)
            mine, my_seconds = timed(run_ours)
        results.append({"example": name, "original": original, "original_scores": theirs,
                        "original_seconds": their_seconds, "ours_scores": mine,
                        "ours_seconds": my_seconds})
        print(name, theirs, f"{their_seconds:.1f}s", mine, f"{my_seconds:.1f}s", flush=True)
    return results


def _cell(value, spec):
    return "" if value is None else format(value, spec)


def markdown(results, meta):
    lines = report.header("scikit-learn's gallery examples, this estimator swapped in",
                          meta) + [
        "| example | score | original estimator | original | KerasMultiLabelClassifier "
        "| original s | ours s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        names = list(dict.fromkeys([*r["original_scores"], *r["ours_scores"]]))
        for i, score in enumerate(names):
            cells = [r["example"], score, r["original"],
                     _cell(r["original_scores"].get(score), ".3f"),
                     _cell(r["ours_scores"].get(score), ".3f"),
                     _cell(r["original_seconds"], ".1f"), _cell(r["ours_seconds"], ".1f")]
            if i:  # the example's name, estimator and times once
                cells[0] = cells[2] = cells[5] = cells[6] = ""
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=10,
                        help="chains of LogisticRegression in the yeast example")
    parser.add_argument("--ours-chains", type=int, default=None,
                        help="chains of this estimator (default: --chains)")
    parser.add_argument("--out", default=str(report.RESULTS))
    parser.add_argument("--name", default="sklearn_examples")
    args = parser.parse_args(argv)
    ours_chains = args.chains if args.ours_chains is None else args.ours_chains
    results = run(args.chains, ours_chains)
    meta = report.run_meta("sklearn_examples.py", argv)
    report.write(args.out, args.name, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
